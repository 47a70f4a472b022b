use clap::Parser;

fn main() {
    let cli = iamprove::cli::Cli::parse();
    let code = iamprove::cli::run(cli);
    std::process::exit(code as i32);
}
