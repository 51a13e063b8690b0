#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| slotwise_fuzz::cluster::sentinel(data));
