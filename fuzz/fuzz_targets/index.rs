//! The index commitment's untrusted inputs: crate files (canonical form),
//! tree objects (bucket and node decoders) and a lookup fed arbitrary
//! objects. Input: first byte picks the part, the rest is the data.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared_trust::index::{self, Commitment, Lookup};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 3 {
        0 => {
            if let Ok(canon) = index::canonical_crate_file("fu/zz/fuzz", rest) {
                // Serialization does not matter: the same lines written
                // pretty-printed by another serializer give the same form.
                // (The canonical bytes are hash input, not always JSON:
                // OLPC leaves control characters unescaped.)
                let mut pretty = Vec::new();
                for line in rest.split(|&b| b == b'\n') {
                    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) {
                        pretty.extend(serde_json::to_vec_pretty(&v).unwrap().iter().map(|&b| {
                            if b == b'\n' {
                                b' '
                            } else {
                                b
                            }
                        }));
                        pretty.push(b'\n');
                    }
                }
                let again = index::canonical_crate_file("fu/zz/fuzz", &pretty).unwrap();
                assert_eq!(canon, again);
            }
        }
        1 => {
            let h = [0u8; 32];
            let _ = index::decode_bucket(&h, rest);
            let _ = index::decode_node(&h, rest);
        }
        _ => {
            // A lookup whose every object is a slice of the input: it must
            // end in an error or a result, never panic or loop.
            let c = Commitment {
                root: index::hex_hash(&sha(rest)),
                depth: 1 + rest.first().copied().unwrap_or(0) % 8,
                files: 1,
            };
            let Ok(mut l) = Lookup::new(&c, "se/rd/serde") else {
                return;
            };
            let mut chunks = rest.chunks(97);
            let mut steps = 0;
            while l.next_object().is_some() && steps < 16 {
                let bytes = if steps == 0 {
                    rest
                } else {
                    chunks.next().unwrap_or(&[])
                };
                if l.feed(bytes).is_err() {
                    break;
                }
                steps += 1;
            }
        }
    }
});

fn sha(data: &[u8]) -> [u8; 32] {
    // The root object is the whole input, so the first step can pass.
    use std::convert::TryInto;
    let d = shared_trust::crypto::sha256_hex(data);
    hex_decode(&d).try_into().unwrap()
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
