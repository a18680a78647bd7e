//! The panic boundary every exported function runs its body in (`boundary::run`): a
//! panic becomes `OTC_STATUS_PANIC`, statuses pass through as their C integers.

use otcore_ffi::boundary::run;
use otcore_ffi::otc_status;

#[test]
fn a_panic_becomes_a_status() {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let got = run(|| panic!("boom"));
    std::panic::set_hook(prev);
    assert_eq!(got, otc_status::Panic as i32);
}

#[test]
fn errors_and_successes_pass_through() {
    assert_eq!(run(|| Ok(otc_status::MaxIterations)), 1);
    assert_eq!(run(|| Err(otc_status::ZeroMass)), -6);
}
