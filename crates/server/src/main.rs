//! The `keel-server` binary: `keel-server [config-file] [--option value ...]`, as
//! redis-server takes them.

use tikv_jemallocator::Jemalloc;

#[global_allocator]
static GLOBAL: Jemalloc = Jemalloc;

/// jemalloc's start-up options (its `malloc_conf` symbol, read once when the
/// allocator initialises, before `main`): ask the kernel for transparent huge
/// pages on the heap (`madvise(MADV_HUGEPAGE)`, which takes effect when the
/// kernel's THP mode is `madvise` or `always`). keel never forks, so huge pages
/// cost it none of the copy-on-write latency that makes Redis turn them off,
/// and a random lookup in a large table then needs a TLB entry per 2 MB instead
/// of per 4 kB (BENCHMARKS.md: AOF load of 1M keys 5-10% faster). `disable-thp
/// yes` turns them off for the process at start-up (`server::set_thp`).
#[repr(transparent)]
struct MallocConf(*const std::ffi::c_char);

// SAFETY: the pointer is to a string literal, immutable for the whole run.
unsafe impl Sync for MallocConf {}

// SAFETY: jemalloc declares `const char *malloc_conf` (prefixed `_rjem_` by
// tikv-jemalloc-sys, which builds it with that prefix) and only reads the
// NUL-terminated string it points to. `MallocConf` is `repr(transparent)` over
// a `*const c_char`, so the symbol has exactly that type and layout, and the
// literal is NUL-terminated by `c"..."` and lives as long as the program.
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: MallocConf = MallocConf(c"thp:always".as_ptr());

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
