//! Synthetic accounts for benchmarks (`iamprove gen-account --principals N --seed S`, hidden).
//!
//! The mix imitates real accounts: most principals get a few customer-managed policies (read and
//! write sets of common services, some with conditions or resource constraints), groups carry
//! shared policies, a minority of policies contain escalation-prone actions, a few principals are
//! administrators, and roles are trusted by services (with instance profiles), by specific users
//! and roles (some under MFA), by the account, or by an outside account with an external ID.

use serde_json::{json, Value};

const ACCOUNT: &str = "123456789012";

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
}

const SERVICES: &[(&str, &[&str])] = &[
    (
        "s3",
        &[
            "s3:GetObject",
            "s3:PutObject",
            "s3:ListBucket",
            "s3:DeleteObject",
            "s3:Get*",
            "s3:List*",
        ],
    ),
    (
        "dynamodb",
        &[
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:Scan",
            "dynamodb:Describe*",
        ],
    ),
    (
        "sqs",
        &[
            "sqs:SendMessage",
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
        ],
    ),
    (
        "logs",
        &[
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "logs:Describe*",
            "logs:Get*",
        ],
    ),
    (
        "ec2",
        &[
            "ec2:Describe*",
            "ec2:StartInstances",
            "ec2:StopInstances",
            "ec2:CreateTags",
        ],
    ),
    (
        "kms",
        &[
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:GenerateDataKey*",
            "kms:DescribeKey",
        ],
    ),
    (
        "lambda",
        &[
            "lambda:InvokeFunction",
            "lambda:GetFunction",
            "lambda:ListFunctions",
        ],
    ),
    (
        "cloudwatch",
        &[
            "cloudwatch:PutMetricData",
            "cloudwatch:GetMetricData",
            "cloudwatch:Describe*",
        ],
    ),
    (
        "secretsmanager",
        &[
            "secretsmanager:GetSecretValue",
            "secretsmanager:DescribeSecret",
        ],
    ),
];

fn resource_for(rng: &mut Rng, svc: &str) -> Value {
    match (svc, rng.below(3)) {
        (_, 0) => json!("*"),
        ("s3", _) => json!([
            format!("arn:aws:s3:::bucket-{}", rng.below(50)),
            format!("arn:aws:s3:::bucket-{}/*", rng.below(50))
        ]),
        ("dynamodb", _) => json!(format!(
            "arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/table-{}",
            rng.below(40)
        )),
        ("sqs", _) => json!(format!(
            "arn:aws:sqs:us-east-1:{ACCOUNT}:queue-{}",
            rng.below(40)
        )),
        ("lambda", _) => json!(format!(
            "arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn-{}*",
            rng.below(40)
        )),
        _ => json!(format!("arn:aws:{svc}:us-east-1:{ACCOUNT}:*")),
    }
}

fn statement(rng: &mut Rng) -> Value {
    let (svc, actions) = SERVICES[rng.below(SERVICES.len())];
    let k = 1 + rng.below(actions.len());
    let acts: Vec<&str> = (0..k).map(|_| actions[rng.below(actions.len())]).collect();
    let mut s = json!({"Effect": "Allow", "Action": acts, "Resource": resource_for(rng, svc)});
    match rng.below(10) {
        0 => {
            s["Condition"] =
                json!({"IpAddress": {"aws:SourceIp": format!("10.{}.0.0/16", rng.below(255))}})
        }
        1 => s["Condition"] = json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
        2 => {
            s["Condition"] =
                json!({"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}})
        }
        _ => {}
    }
    s
}

fn risky_statement(rng: &mut Rng) -> Value {
    match rng.below(8) {
        0 => {
            json!({"Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"})
        }
        1 => {
            json!({"Effect": "Allow", "Action": "iam:CreatePolicyVersion", "Resource": format!("arn:aws:iam::{ACCOUNT}:policy/team-*")})
        }
        2 => {
            json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": format!("arn:aws:iam::{ACCOUNT}:role/app-*")})
        }
        3 => {
            json!({"Effect": "Allow", "Action": ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"], "Resource": "*"})
        }
        4 => {
            json!({"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": format!("arn:aws:iam::{ACCOUNT}:user/svc-*")})
        }
        5 => {
            json!({"Effect": "Allow", "Action": "iam:PutRolePolicy", "Resource": format!("arn:aws:iam::{ACCOUNT}:role/app-{}", rng.below(100))})
        }
        6 => {
            json!({"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}})
        }
        _ => json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}),
    }
}

fn document(rng: &mut Rng, stmts: usize, risky_pct: u64) -> Value {
    let mut st: Vec<Value> = (0..stmts).map(|_| statement(rng)).collect();
    if rng.chance(risky_pct) {
        st.push(risky_statement(rng));
    }
    json!({"Version": "2012-10-17", "Statement": st})
}

fn inline_doc(rng: &mut Rng, name: &str) -> Value {
    let k = 1 + rng.below(3);
    let d = document(rng, k, 10);
    json!({"PolicyName": name, "PolicyDocument": d})
}

fn managed(arn: &str, doc: Value) -> Value {
    let name = arn.rsplit('/').next().unwrap_or("p");
    json!({"PolicyName": name, "PolicyId": format!("ANPA{}", name.to_uppercase()), "Arn": arn, "Path": "/", "DefaultVersionId": "v1",
           "AttachmentCount": 1, "PermissionsBoundaryUsageCount": 0, "IsAttachable": true,
           "CreateDate": "2024-01-01T00:00:00Z", "UpdateDate": "2024-01-01T00:00:00Z",
           "PolicyVersionList": [{"Document": doc, "VersionId": "v1", "IsDefaultVersion": true, "CreateDate": "2024-01-01T00:00:00Z"}]})
}

fn attached(arns: &[String]) -> Value {
    Value::Array(
        arns.iter()
            .map(|a| json!({"PolicyName": a.rsplit('/').next().unwrap_or(""), "PolicyArn": a}))
            .collect(),
    )
}

/// A dump with `n` principals (60% users, 40% roles).
pub fn generate(n: usize, seed: u64) -> Value {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let n_policies = 20 + n / 20;
    let mut policies = Vec::new();
    let mut customer: Vec<String> = Vec::new();
    for i in 0..n_policies {
        let name = if i % 5 == 0 {
            format!("team-{i}")
        } else {
            format!("policy-{i}")
        };
        let arn = format!("arn:aws:iam::{ACCOUNT}:policy/{name}");
        policies.push(managed(&arn, {
            let k = 1 + rng.below(6);
            document(&mut rng, k, 15)
        }));
        customer.push(arn);
    }
    let admin = "arn:aws:iam::aws:policy/AdministratorAccess".to_owned();
    policies.push(managed(&admin, json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})));
    let boundary = format!("arn:aws:iam::{ACCOUNT}:policy/boundary");
    policies.push(managed(&boundary, json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "dynamodb:*", "logs:*", "sts:AssumeRole"], "Resource": "*"}]})));

    let n_groups = 5 + n / 100;
    let groups: Vec<Value> = (0..n_groups)
        .map(|g| {
            let att: Vec<String> = (0..1 + rng.below(3)).map(|_| customer[rng.below(customer.len())].clone()).collect();
            let inline = if rng.chance(30) { vec![json!({"PolicyName": format!("g{g}-inline"), "PolicyDocument": document(&mut rng, 2, 10)})] } else { vec![] };
            json!({"Path": "/", "GroupName": format!("group-{g}"), "GroupId": format!("AGPA{g}"), "Arn": format!("arn:aws:iam::{ACCOUNT}:group/group-{g}"),
                   "CreateDate": "2024-01-01T00:00:00Z", "GroupPolicyList": inline, "AttachedManagedPolicies": attached(&att)})
        })
        .collect();

    let n_users = n * 6 / 10;
    let n_roles = n - n_users;
    let user_name = |i: usize| {
        if i % 10 == 0 {
            format!("svc-{i}")
        } else {
            format!("user-{i}")
        }
    };
    let role_name = |i: usize| {
        if i % 3 == 0 {
            format!("app-{i}")
        } else {
            format!("role-{i}")
        }
    };
    let users: Vec<Value> = (0..n_users)
        .map(|i| {
            let mut att: Vec<String> = (0..rng.below(3)).map(|_| customer[rng.below(customer.len())].clone()).collect();
            if rng.chance(2) {
                att.push(admin.clone());
            }
            let gl: Vec<String> = (0..rng.below(3)).map(|_| format!("group-{}", rng.below(n_groups))).collect();
            let inline = if rng.chance(30) { vec![inline_doc(&mut rng, &format!("u{i}-inline"))] } else { vec![] };
            let mut u = json!({"Path": "/", "UserName": user_name(i), "UserId": format!("AIDA{i}"), "Arn": format!("arn:aws:iam::{ACCOUNT}:user/{}", user_name(i)),
                   "CreateDate": "2024-01-01T00:00:00Z", "UserPolicyList": inline, "GroupList": gl, "AttachedManagedPolicies": attached(&att),
                   "Tags": [{"Key": "team", "Value": format!("t{}", rng.below(10))}]});
            if rng.chance(5) {
                u["PermissionsBoundary"] = json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary});
            }
            u
        })
        .collect();
    let roles: Vec<Value> = (0..n_roles)
        .map(|i| {
            let name = role_name(i);
            let mut profiles = Vec::new();
            let principal_arn = |rng: &mut Rng| -> String {
                if i > 0 && rng.chance(40) {
                    format!("arn:aws:iam::{ACCOUNT}:role/{}", role_name(rng.below(i)))
                } else {
                    format!("arn:aws:iam::{ACCOUNT}:user/{}", user_name(rng.below(n_users.max(1))))
                }
            };
            let trust = match rng.below(10) {
                0..=3 => {
                    let svc = if rng.chance(50) { "ec2.amazonaws.com" } else { "lambda.amazonaws.com" };
                    if svc.starts_with("ec2") {
                        profiles.push(json!({"Path": "/", "InstanceProfileName": name, "InstanceProfileId": format!("AIPA{i}"),
                            "Arn": format!("arn:aws:iam::{ACCOUNT}:instance-profile/{name}"), "CreateDate": "2024-01-01T00:00:00Z", "Roles": []}));
                    }
                    json!({"Effect": "Allow", "Principal": {"Service": svc}, "Action": "sts:AssumeRole"})
                }
                4..=6 => {
                    let ps: Vec<String> = (0..1 + rng.below(3)).map(|_| principal_arn(&mut rng)).collect();
                    json!({"Effect": "Allow", "Principal": {"AWS": ps}, "Action": "sts:AssumeRole"})
                }
                7 => json!({"Effect": "Allow", "Principal": {"AWS": principal_arn(&mut rng)}, "Action": "sts:AssumeRole",
                            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}),
                8 => json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"}),
                _ => json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"}, "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"sts:ExternalId": format!("ext-{i}")}}}),
            };
            let mut att: Vec<String> = (0..1 + rng.below(3)).map(|_| customer[rng.below(customer.len())].clone()).collect();
            if rng.chance(3) {
                att.push(admin.clone());
            }
            let inline = if rng.chance(30) { vec![inline_doc(&mut rng, &format!("r{i}-inline"))] } else { vec![] };
            let mut r = json!({"Path": "/", "RoleName": name, "RoleId": format!("AROA{i}"), "Arn": format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
                   "CreateDate": "2024-01-01T00:00:00Z", "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [trust]},
                   "InstanceProfileList": profiles, "RolePolicyList": inline, "AttachedManagedPolicies": attached(&att), "Tags": [], "RoleLastUsed": {}});
            if rng.chance(10) {
                r["PermissionsBoundary"] = json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary});
            }
            r
        })
        .collect();
    json!({"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles, "Policies": policies})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_accounts_load_and_are_deterministic() {
        let a = generate(200, 7);
        assert_eq!(a, generate(200, 7));
        let j = crate::json::Json::from_value(&a);
        let acct = crate::account::load::account_from_json(&j, "gen").unwrap();
        assert_eq!(acct.users.len() + acct.roles.len(), 200);
        assert!(acct.roles.iter().any(|r| !r.instance_profiles.is_empty()));
    }
}
