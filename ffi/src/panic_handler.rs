//! The `#[panic_handler]` a `no_std` static library needs, chosen by a feature.
//!
//! Rust has no weak symbols, so the library cannot offer a default handler that an
//! application overrides: the handler is opt-in instead. A C firmware links the
//! static library built with one of these features; a Rust firmware depends on
//! `otcore` and keeps its own (panic-halt, panic-probe, …): two handlers do not link.
//!
//! - `panic-handler`: parks the core in a loop, where a debugger or watchdog finds it.
//!   otcore is written not to panic, and the no-panic proof (below) shows that no
//!   exported function can reach a panic, so in a release build this is dead code.
//! - `panic-never`: the proof. The handler calls a function that nothing defines, so a
//!   release firmware links only if the optimiser removed every panicking branch
//!   (japaric's panic-never technique). `scripts/embedded.sh test` links a probe that
//!   calls every exported function this way; firmware authors can do the same with
//!   their own program.

#[cfg(all(feature = "panic-handler", feature = "panic-never"))]
compile_error!("features `panic-handler` and `panic-never` are mutually exclusive");

#[cfg(all(
    not(feature = "std"),
    feature = "panic-handler",
    not(feature = "panic-never")
))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

#[cfg(all(
    not(feature = "std"),
    feature = "panic-never",
    not(feature = "panic-handler")
))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    unsafe extern "C" {
        /// Defined nowhere: its name is the linker's error message.
        #[link_name = "\nerror(panic-never): otcore contains a reachable panicking branch\n"]
        fn reachable_panic() -> !;
    }
    // SAFETY: never executes: the program does not link if this call is reachable.
    unsafe { reachable_panic() }
}
