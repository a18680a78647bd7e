//! An opt-in `#[panic_handler]` for `no_std` firmware applications that have none.
//!
//! Enabled only by the `panic-handler` feature: an application that defines its own
//! handler (panic-halt, panic-probe, …) must leave it off, or linking fails with two
//! handlers. otcore is written not to panic; if it ever did, this handler parks the
//! core in a loop, where a debugger or watchdog finds it.

#[cfg(not(feature = "std"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
