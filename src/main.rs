//! The `searchlight` binary: parse arguments, run, map the outcome to an exit code.

// Landing decodes large chunks in parallel. mimalloc, told to keep freed memory and to use
// 2 MiB pages, stops the kernel from zeroing fresh pages for every chunk's buffers (a fifth of
// the CPU of an ingest with the system allocator). A batch process can afford to keep what it
// used at its peak; the service (`searchlight serve`) gives it back after each job, to idle small.
// Every other command uses ordinary pages: mimalloc madvises 2 MiB pages for its segments, and
// a recorded run of the library at county scale 300 spent 5–6 s of system time having the
// kernel zero huge pages it touched only in part (7.0–8.0 s wall, against 4.9–5.0 s without).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // SAFETY: plain option setters of the allocator, called before any thread starts.
    unsafe {
        libmimalloc_sys::mi_option_set(libmimalloc_sys::mi_option_large_os_pages, 1);
        // mimalloc decided on huge pages when it started, before this: the kernel is told
        #[cfg(target_os = "linux")]
        if !landing() {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
        if !serving() {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1);
        }
    }
    searchlight::cli::main()
}

/// Whether the command is `serve` (a word `serve` that is no global option's value).
fn serving() -> bool {
    command_is("serve")
}

/// Whether the command is `ingest`.
fn landing() -> bool {
    command_is("ingest")
}

/// Whether `word` is an argument that is no global option's value.
fn command_is(word: &str) -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    args.iter()
        .enumerate()
        .any(|(i, a)| a == word && (i == 0 || !matches!(args[i - 1].as_str(), "--project" | "--lake" | "--ledger")))
}

/// `mi_option_purge_delay` (mimalloc v2 option 15): -1 never returns freed memory to the OS.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
