//! A minimal test harness over semihosting: named checks, a tally, an exit status.

use cortex_m_semihosting::{debug, hprintln};

/// A named group of checks run by the `tests` firmware.
pub type Suite = (&'static str, fn(&mut Tally));

/// Counts passed and failed checks and prints one line per check.
#[derive(Default)]
pub struct Tally {
    passed: u32,
    failed: u32,
}

impl Tally {
    /// Records one check named `suite::name`.
    pub fn record(&mut self, suite: &str, name: &str, ok: bool) {
        hprintln!(
            "test {}::{} ... {}",
            suite,
            name,
            if ok { "ok" } else { "FAILED" }
        );
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
    }

    /// Runs every suite, prints the totals (`N passed, M failed`) and exits QEMU:
    /// status 0 only if at least one check ran and none failed.
    pub fn run_all(suites: &[Suite]) -> ! {
        let mut t = Tally::default();
        for (name, suite) in suites {
            hprintln!("suite {}", name);
            suite(&mut t);
        }
        hprintln!("{} passed, {} failed", t.passed, t.failed);
        exit(t.failed == 0 && t.passed > 0)
    }
}

/// Ends the QEMU run with status 0 (`ok`) or 1.
pub fn exit(ok: bool) -> ! {
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    // Only reached on a debugger without semihosting exit: park the core.
    loop {
        cortex_m::asm::bkpt();
    }
}

/// The panic handler of the test firmware: prints the message and fails the run.
pub fn on_panic(info: &core::panic::PanicInfo<'_>) -> ! {
    hprintln!("PANIC: {}", info);
    exit(false)
}
