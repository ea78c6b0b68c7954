#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| isnad_testkit::fuzz::event_body(data));
