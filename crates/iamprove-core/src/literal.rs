//! Typed literals parsed once: exact decimals, instants, IP networks.

use std::cmp::Ordering;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// An exact decimal `mant / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    /// The integer mantissa.
    pub mant: i128,
    /// Number of decimal digits after the point.
    pub scale: u32,
}

const MAX_SCALE: u32 = 18;

impl Decimal {
    /// Parse `-12`, `3.50`, `+0.1`, `.5`, `5.`; no exponents, at most 18 fraction digits.
    pub fn parse(s: &str) -> Option<Decimal> {
        let t = s.trim();
        let (neg, body) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() as u32 > MAX_SCALE || int.trim_start_matches('0').len() > 20 {
            return None;
        }
        let mut mant: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            mant = mant.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
        }
        Some(Decimal {
            mant: if neg { -mant } else { mant },
            scale: frac.len() as u32,
        })
    }

    fn aligned(self, other: Decimal) -> (i128, i128) {
        let s = self.scale.max(other.scale);
        let a = self.mant * 10i128.pow(s - self.scale);
        let b = other.mant * 10i128.pow(s - other.scale);
        (a, b)
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = self.aligned(*other);
        a.cmp(&b)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.mant);
        }
        let den = 10i128.pow(self.scale);
        let sign = if self.mant < 0 { "-" } else { "" };
        let m = self.mant.abs();
        write!(
            f,
            "{sign}{}.{:0width$}",
            m / den,
            m % den,
            width = self.scale as usize
        )
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

fn num(s: &str, len: usize) -> Option<u32> {
    if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// Parse a date literal to epoch milliseconds (UTC).
///
/// Accepts the W3C ISO-8601 profile (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDThh:mmTZD`,
/// `YYYY-MM-DDThh:mm:ssTZD`, `YYYY-MM-DDThh:mm:ss.sTZD`, TZD = `Z` or `±hh:mm`; a missing TZD is UTC),
/// and epoch seconds (an integer or decimal number). Partial dates mean the start of the period.
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        && !s[1..].contains('-')
    {
        // epoch seconds (possibly negative or fractional) — but a bare 4-digit year is a year
        if !(s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())) {
            let d = Decimal::parse(s)?;
            let (a, _) = d.aligned(Decimal { mant: 0, scale: 3 });
            let ms = if d.scale >= 3 {
                d.mant / 10i128.pow(d.scale - 3)
            } else {
                a
            };
            return i64::try_from(ms).ok();
        }
    }
    let (date, time) = match s.split_once(['T', 't']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let y = i64::from(num(parts.first()?, 4)?);
    let m = match parts.get(1) {
        Some(p) => num(p, 2)?,
        None => 1,
    };
    let d = match parts.get(2) {
        Some(p) => num(p, 2)?,
        None => 1,
    };
    if parts.len() > 3 || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    if time.is_some() && parts.len() != 3 {
        return None;
    }
    let mut ms = days_from_civil(y, m, d) * 86_400_000;
    if let Some(t) = time {
        let (clock, offset_ms) = split_tz(t)?;
        let cp: Vec<&str> = clock.split(':').collect();
        if cp.len() < 2 || cp.len() > 3 {
            return None;
        }
        let hh = num(cp[0], 2)?;
        let mm = num(cp[1], 2)?;
        let (ss, frac_ms) = match cp.get(2) {
            Some(sec) => match sec.split_once('.') {
                Some((whole, frac)) => {
                    if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    let padded: String = frac.chars().chain("000".chars()).take(3).collect();
                    (num(whole, 2)?, i64::from(padded.parse::<u32>().ok()?))
                }
                None => (num(sec, 2)?, 0),
            },
            None => (0, 0),
        };
        if hh > 23 || mm > 59 || ss > 60 {
            return None;
        }
        ms += (i64::from(hh) * 3600 + i64::from(mm) * 60 + i64::from(ss)) * 1000 + frac_ms
            - offset_ms;
    }
    Some(ms)
}

fn split_tz(t: &str) -> Option<(&str, i64)> {
    if let Some(c) = t.strip_suffix(['Z', 'z']) {
        return Some((c, 0));
    }
    if let Some(i) = t.rfind(['+', '-']) {
        let (clock, tz) = t.split_at(i);
        let sign = if tz.starts_with('-') { -1 } else { 1 };
        let (h, m) = tz[1..].split_once(':').unwrap_or((&tz[1..], "00"));
        let h = num(h, 2)?;
        let m = num(m, 2)?;
        if h > 23 || m > 59 {
            return None;
        }
        return Some((
            clock,
            sign * (i64::from(h) * 3600 + i64::from(m) * 60) * 1000,
        ));
    }
    Some((t, 0))
}

/// Render epoch milliseconds as `YYYY-MM-DDThh:mm:ss[.mmm]Z`.
pub fn format_date(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    if milli == 0 {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
    }
}

/// An IP network with host bits cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpNet {
    /// An IPv4 network: address (host bits cleared) and prefix length.
    #[allow(missing_docs)] // addr, prefix
    V4 { addr: u32, prefix: u8 },
    /// An IPv6 network: address (host bits cleared) and prefix length.
    #[allow(missing_docs)] // addr, prefix
    V6 { addr: u128, prefix: u8 },
}

/// A single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpAddr {
    /// An IPv4 address.
    V4(u32),
    /// An IPv6 address.
    V6(u128),
}

/// The IPv4 netmask of a prefix length.
pub fn mask4(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}
/// The IPv6 netmask of a prefix length.
pub fn mask6(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix))
    }
}

impl IpNet {
    /// `a.b.c.d/n`, bare IPv4 (= /32), IPv6 with prefix, bare IPv6 (= /128). Host bits are masked.
    pub fn parse(s: &str) -> Option<IpNet> {
        let s = s.trim();
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        match parse_ip(a)? {
            IpAddr::V4(addr) => {
                let prefix = match p {
                    Some(p) => num_prefix(p, 32)?,
                    None => 32,
                };
                Some(IpNet::V4 {
                    addr: addr & mask4(prefix),
                    prefix,
                })
            }
            IpAddr::V6(addr) => {
                let prefix = match p {
                    Some(p) => num_prefix(p, 128)?,
                    None => 128,
                };
                Some(IpNet::V6 {
                    addr: addr & mask6(prefix),
                    prefix,
                })
            }
        }
    }

    /// Whether the network contains the address (an IPv4 network never contains an IPv6 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self, ip) {
            (IpNet::V4 { addr, prefix }, IpAddr::V4(v)) => v & mask4(*prefix) == *addr,
            (IpNet::V6 { addr, prefix }, IpAddr::V6(v)) => v & mask6(*prefix) == *addr,
            _ => false,
        }
    }
}

fn num_prefix(p: &str, max: u8) -> Option<u8> {
    if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: u8 = p.parse().ok()?;
    (v <= max).then_some(v)
}

/// Parse one IPv4 or IPv6 address.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    if let Ok(v4) = s.parse::<Ipv4Addr>() {
        return Some(IpAddr::V4(u32::from(v4)));
    }
    s.parse::<Ipv6Addr>()
        .ok()
        .map(|v6| IpAddr::V6(u128::from(v6)))
}

impl fmt::Display for IpAddr {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            IpAddr::V4(v) => write!(f, "{}", Ipv4Addr::from(*v)),
            IpAddr::V6(v) => write!(f, "{}", Ipv6Addr::from(*v)),
        }
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            IpNet::V4 { addr, prefix } => write!(f, "{}/{prefix}", Ipv4Addr::from(*addr)),
            IpNet::V6 { addr, prefix } => write!(f, "{}/{prefix}", Ipv6Addr::from(*addr)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_compare_exactly() {
        let a = Decimal::parse("10").unwrap();
        let b = Decimal::parse("10.0").unwrap();
        let c = Decimal::parse("10.000001").unwrap();
        assert_eq!(a.cmp(&b), Ordering::Equal);
        assert!(c > a);
        assert!(Decimal::parse("-0.5").unwrap() < Decimal::parse("0").unwrap());
        assert!(Decimal::parse("1e3").is_none());
        assert!(Decimal::parse("abc").is_none());
        assert!(Decimal::parse("").is_none());
        assert_eq!(Decimal::parse("3.50").unwrap().to_string(), "3.5");
        assert_eq!(Decimal::parse("-0.05").unwrap().to_string(), "-0.05");
    }

    #[test]
    fn dates_in_every_accepted_form() {
        let base = parse_date("2020-01-01T00:00:00Z").unwrap();
        assert_eq!(base, 1_577_836_800_000);
        assert_eq!(parse_date("2020").unwrap(), base);
        assert_eq!(parse_date("2020-01").unwrap(), base);
        assert_eq!(parse_date("2020-01-01").unwrap(), base);
        assert_eq!(parse_date("2020-01-01T00:00Z").unwrap(), base);
        assert_eq!(parse_date("2020-01-01T01:00:00+01:00").unwrap(), base);
        assert_eq!(parse_date("2020-01-01T00:00:00.250Z").unwrap(), base + 250);
        assert_eq!(parse_date("1577836800").unwrap(), base);
        assert!(parse_date("2020-13-01").is_none());
        assert!(parse_date("2021-02-29").is_none());
        assert!(parse_date("yesterday").is_none());
        assert_eq!(format_date(base), "2020-01-01T00:00:00Z");
        assert_eq!(format_date(base + 250), "2020-01-01T00:00:00.250Z");
    }

    #[test]
    fn ip_networks() {
        let n = IpNet::parse("203.0.113.0/24").unwrap();
        assert!(n.contains(parse_ip("203.0.113.7").unwrap()));
        assert!(!n.contains(parse_ip("203.0.114.7").unwrap()));
        assert_eq!(
            IpNet::parse("203.0.113.9/24").unwrap(),
            n,
            "host bits are masked"
        );
        let six = IpNet::parse("2001:db8::/32").unwrap();
        assert!(six.contains(parse_ip("2001:db8::1").unwrap()));
        assert!(!six.contains(parse_ip("203.0.113.7").unwrap()));
        assert!(IpNet::parse("1.2.3.4/33").is_none());
        assert!(IpNet::parse("300.1.1.1").is_none());
        assert_eq!(
            IpNet::parse("10.0.0.1").unwrap(),
            IpNet::V4 {
                addr: 0x0a00_0001,
                prefix: 32
            }
        );
    }
}
