//! RESP reply streams for the decoder benches. Each is a concatenation of whole frames, as a server
//! would send them down one connection.

use slotwise_resp::Frame;

/// A named input: the bytes and how many top-level frames they hold.
pub struct Input {
    /// Short name used as the bench id.
    pub name: &'static str,
    /// The byte stream.
    pub bytes: Vec<u8>,
    /// Number of top-level frames in `bytes`.
    pub frames: usize,
    /// True if it uses RESP3-only types.
    pub resp3: bool,
}

fn encode_all(frames: &[Frame]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        f.encode(&mut out);
    }
    out
}

fn bulk(bytes: impl Into<Vec<u8>>) -> Frame {
    Frame::BulkString(bytes.into().into())
}

/// 1,000 small replies: `+OK`, integers and short bulk strings, as a pipeline of SET/INCR/GET returns.
pub fn small() -> Input {
    let frames: Vec<Frame> = (0..1000)
        .map(|i| match i % 3 {
            0 => Frame::SimpleString("OK".into()),
            1 => Frame::Integer(i * 7919),
            _ => bulk(format!("value:{i:06}")),
        })
        .collect();
    Input {
        name: "small_replies",
        bytes: encode_all(&frames),
        frames: frames.len(),
        resp3: false,
    }
}

/// 64 bulk strings of 1 KiB.
pub fn bulk_1k() -> Input {
    let frames: Vec<Frame> = (0..64u8).map(|i| bulk(vec![b'a' + i % 26; 1024])).collect();
    Input {
        name: "bulk_1KiB",
        bytes: encode_all(&frames),
        frames: frames.len(),
        resp3: false,
    }
}

/// 4 bulk strings of 64 KiB.
pub fn bulk_64k() -> Input {
    let frames: Vec<Frame> = (0..4u8).map(|i| bulk(vec![b'a' + i; 64 * 1024])).collect();
    Input {
        name: "bulk_64KiB",
        bytes: encode_all(&frames),
        frames: frames.len(),
        resp3: false,
    }
}

/// 10 MGET replies of 100 elements each (16-byte values, one in ten missing).
pub fn mget_100() -> Input {
    let frames: Vec<Frame> = (0..10)
        .map(|r| {
            Frame::Array(
                (0..100)
                    .map(|i| {
                        if (i + r) % 10 == 0 {
                            Frame::NullBulk
                        } else {
                            bulk(format!("val-{r:03}-{i:08}"))
                        }
                    })
                    .collect(),
            )
        })
        .collect();
    Input {
        name: "mget_100",
        bytes: encode_all(&frames),
        frames: frames.len(),
        resp3: false,
    }
}

/// One CLUSTER SLOTS reply for 100 shards of one primary and two replicas (Redis 7 form, with the
/// networking-metadata map as an empty array in RESP2).
pub fn cluster_slots() -> Input {
    let shards = 100;
    let per = 16384 / shards;
    let node = |port: i64, id: usize| {
        Frame::Array(vec![
            bulk("127.0.0.1"),
            Frame::Integer(port),
            bulk(format!("{id:040x}")),
            Frame::Array(vec![
                bulk("hostname"),
                bulk(format!("node-{port}.cluster.local")),
            ]),
        ])
    };
    let frames = vec![Frame::Array(
        (0..shards)
            .map(|s| {
                let start = s * per;
                let end = if s == shards - 1 {
                    16383
                } else {
                    start + per - 1
                };
                Frame::Array(vec![
                    Frame::Integer(start as i64),
                    Frame::Integer(end as i64),
                    node(30000 + s as i64, s * 3),
                    node(31000 + s as i64, s * 3 + 1),
                    node(32000 + s as i64, s * 3 + 2),
                ])
            })
            .collect(),
    )];
    Input {
        name: "cluster_slots_100_shards",
        bytes: encode_all(&frames),
        frames: 1,
        resp3: false,
    }
}

/// 200 RESP3 replies: maps (HGETALL), sets, doubles, booleans, nulls, big numbers and pushes.
pub fn resp3_mixed() -> Input {
    let frames: Vec<Frame> = (0..200)
        .map(|i| match i % 6 {
            0 => Frame::Map(
                (0..8)
                    .map(|f| (bulk(format!("field{f}")), bulk(format!("value{i}-{f}"))))
                    .collect(),
            ),
            1 => Frame::Set((0..8).map(|m| bulk(format!("member{m}"))).collect()),
            2 => Frame::Double(slotwise_resp::Double::from_f64(i as f64 * 1.25)),
            3 => Frame::Boolean(i % 2 == 0),
            4 => Frame::Null,
            _ => Frame::Push(vec![
                bulk("message"),
                bulk("channel"),
                bulk(format!("payload {i}")),
            ]),
        })
        .collect();
    Input {
        name: "resp3_mixed",
        bytes: encode_all(&frames),
        frames: frames.len(),
        resp3: true,
    }
}

/// One array of 1,000,000 one-digit integers (3.8 MiB on the wire), for peak memory. Not in [`all`]:
/// decoders that re-parse a partial frame on every piece take minutes over it in 4 KiB pieces.
pub fn array_1m() -> Input {
    let elements = 1_000_000;
    let mut bytes = format!("*{elements}\r\n").into_bytes();
    for i in 0..elements {
        bytes.extend_from_slice(&[b':', b'0' + (i % 10) as u8, b'\r', b'\n']);
    }
    Input {
        name: "array_1M",
        bytes,
        frames: 1,
        resp3: false,
    }
}

/// Every input, in bench order.
pub fn all() -> Vec<Input> {
    vec![
        small(),
        bulk_1k(),
        bulk_64k(),
        mget_100(),
        cluster_slots(),
        resp3_mixed(),
    ]
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use slotwise_resp::Decoder;

    #[test]
    fn every_input_holds_the_frames_it_claims() {
        for input in super::all() {
            let mut buf = BytesMut::from(&input.bytes[..]);
            let mut decoder = Decoder::new();
            let mut n = 0;
            while decoder.decode(&mut buf).unwrap().is_some() {
                n += 1;
            }
            assert_eq!(n, input.frames, "{}", input.name);
            assert!(buf.is_empty(), "{}", input.name);
        }
    }
}
