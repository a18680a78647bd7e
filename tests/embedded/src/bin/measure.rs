#![no_std]
#![no_main]
#[cortex_m_rt::entry]
fn main() -> ! {
    loop {}
}
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}
