//! The `keel-server` binary: `keel-server [config-file] [--option value ...]`, as
//! redis-server takes them.

use tikv_jemallocator::Jemalloc;

#[global_allocator]
static GLOBAL: Jemalloc = Jemalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() == 1 && keel_server::config::is_version_flag(&args[0]) {
        println!(
            "keel server v={} (Redis {} compatible) bits=64",
            env!("CARGO_PKG_VERSION"),
            keel_server::info::REDIS_VERSION
        );
        return;
    }
    if args.len() == 1 && keel_server::config::is_help_flag(&args[0]) {
        println!("Usage: keel-server [/path/to/keel.conf] [options] [-]");
        println!("       keel-server -v or --version");
        println!("       keel-server -h or --help");
        println!();
        println!("Examples:");
        println!("       keel-server (run on 127.0.0.1:6379 with the append-only file on)");
        println!("       keel-server /etc/redis/redis.conf");
        println!("       keel-server --port 7777");
        println!("       keel-server /etc/keel/7000.conf --loglevel verbose");
        return;
    }
    let config = match keel_server::config::Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    std::process::exit(keel_server::server::run(config));
}
