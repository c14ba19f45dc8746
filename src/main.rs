//! The `searchlight` binary: parse arguments, run, map the outcome to an exit code.

// Landing decodes large chunks in parallel. mimalloc with 2 MiB pages stops the kernel from
// zeroing fresh pages for every chunk's buffers (a fifth of the CPU of an ingest with the
// system allocator). Every other command uses ordinary pages: mimalloc madvises 2 MiB pages for
// its segments, and a recorded run of the library at county scale 300 spent 5–6 s of system
// time having the kernel zero huge pages it touched only in part (7.0–8.0 s wall, against
// 4.9–5.0 s without). And every other command gives freed memory back sooner
// ([`PURGE_DELAY_MS`]); `ingest` keeps mimalloc's 1 s (with it, an ingest of a 133 M-row
// county's relief workbooks peaked at 3.3 GiB, against 4.1 GiB keeping freed memory for good,
// for 10 % more time).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // SAFETY: plain option setters of the allocator, called before any thread starts.
    unsafe {
        libmimalloc_sys::mi_option_set(libmimalloc_sys::mi_option_large_os_pages, 1);
        // mimalloc decided on huge pages when it started, before this: the kernel is told
        if !landing() {
            #[cfg(target_os = "linux")]
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS);
        }
    }
    searchlight::cli::main()
}

/// Whether the command is `ingest` (a word `ingest` that is no global option's value).
fn landing() -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    args.iter()
        .enumerate()
        .any(|(i, a)| a == "ingest" && (i == 0 || !matches!(args[i - 1].as_str(), "--project" | "--lake" | "--ledger")))
}

/// `mi_option_purge_delay` (mimalloc option 15): how long freed memory waits before it goes back
/// to the system.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// The purge delay of every command but `ingest` (which keeps mimalloc's 1 s): model runs free
/// and allocate in waves across threads, and memory kept for a second added up to twice the
/// query pool. Measured on the 133 M-row county, the library under a 4 GiB limit, one model at
/// a time: 1 000 ms 4.2 GiB in 74 s; 100 ms 2.8 GiB in 81 s; 0 ms 2.3 GiB in 94 s (the system
/// allocator 1.9 GiB in 82 s).
const PURGE_DELAY_MS: std::os::raw::c_long = 100;
