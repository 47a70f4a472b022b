fn main() {
    let cli = iamprove::cli::parse_args();
    let code = iamprove::cli::run(cli);
    std::process::exit(code as i32);
}
