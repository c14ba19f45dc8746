//! The `searchlight` binary: parse arguments, run, map the outcome to an exit code.

// Landing decodes large chunks in parallel. mimalloc, told to keep freed memory and to use
// 2 MiB pages, stops the kernel from zeroing fresh pages for every chunk's buffers (a fifth of
// the CPU of an ingest with the system allocator). A batch process can afford to keep what it
// used at its peak; the service (`searchlight serve`) gives it back after each job, to idle small.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // SAFETY: plain option setters of the allocator, called before any thread starts.
    unsafe {
        libmimalloc_sys::mi_option_set(libmimalloc_sys::mi_option_large_os_pages, 1);
        if !serving() {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1);
        }
    }
    searchlight::cli::main()
}

/// Whether the command is `serve` (a word `serve` that is no global option's value).
fn serving() -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    args.iter()
        .enumerate()
        .any(|(i, a)| a == "serve" && (i == 0 || !matches!(args[i - 1].as_str(), "--project" | "--lake" | "--ledger")))
}

/// `mi_option_purge_delay` (mimalloc v2 option 15): -1 never returns freed memory to the OS.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
