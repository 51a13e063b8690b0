//! `slotwise decode` on a real server's byte stream, on malformed input and on a large input.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use slotwise_test_cluster::{Server, ServerOptions};

fn slotwise(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_slotwise"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The raw bytes a real redis-server sends back for a pipeline, in RESP2 then RESP3.
fn capture() -> Vec<u8> {
    let server = Server::start(&ServerOptions::default()).unwrap();
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    let pipeline: &[&[&str]] = &[
        &["SET", "greeting", "hello"],
        &["GET", "greeting"],
        &["GET", "missing"],
        &["RPUSH", "list", "a", "b\x00c"],
        &["LRANGE", "list", "0", "-1"],
        &["NOSUCHCOMMAND"],
        &["HELLO", "3"],
        &["HSET", "h", "f", "v"],
        &["HGETALL", "h"],
        &["SADD", "s", "m"],
        &["SMEMBERS", "s"],
        &["ZADD", "z", "1.5", "x"],
        &["ZSCORE", "z", "x"],
        &["GET", "missing"],
        &["PING"],
    ];
    let mut out = Vec::new();
    for cmd in pipeline {
        slotwise_resp::encode::write_command(&mut out, cmd.iter().map(|s| s.as_bytes()));
    }
    stream.write_all(&out).unwrap();
    stream.write_all(b"*1\r\n$4\r\nQUIT\r\n").unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    reply
}

#[test]
fn decodes_a_real_server_stream() {
    let bytes = capture();
    let (code, stdout, stderr) = slotwise(&["decode"], &bytes);
    assert_eq!(code, 0, "{stderr}");
    let expected_lines = [
        "OK",
        "\"hello\"",
        "(nil)",
        "(integer) 2",
        "1) \"a\"",
        "2) \"b\\x00c\"",
        "(error) ERR unknown command 'NOSUCHCOMMAND', with args beginning with: ",
        "(integer) 1",
        "1# \"f\" => \"v\"",
        "(integer) 1",
        "1~ \"m\"",
        "(integer) 1",
        "(double) 1.5",
        "(nil)",
        "PONG",
        "OK",
    ];
    for line in expected_lines {
        assert!(
            stdout.lines().any(|l| l == line),
            "missing line {line:?} in:\n{stdout}"
        );
    }

    let (code, json, _) = slotwise(&["decode", "--json", "-"], &bytes);
    assert_eq!(code, 0);
    let values: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(values.len(), 16, "{json}");
    assert_eq!(values[0]["type"], "simple");
    assert_eq!(values[0]["offset"], 0);
    assert_eq!(values[4]["items"][1]["text"], "b\u{0}c");
    assert_eq!(values[6]["type"], "map", "HELLO 3 answers with a RESP3 map");
    assert_eq!(values[8]["type"], "map");
    assert_eq!(values[10]["type"], "set");
    assert_eq!(values[12]["type"], "double");
    assert_eq!(values[13]["type"], "null");
}

#[test]
fn malformed_input_prints_what_came_before_and_the_offset() {
    let (code, stdout, stderr) = slotwise(&["decode"], b"+OK\r\n:12\r\n$3\r\nabcd\r\n+never\r\n");
    assert_eq!(code, 1);
    assert_eq!(stdout, "OK\n(integer) 12\n");
    assert!(
        stderr.contains("byte 17") && stderr.contains("CRLF"),
        "{stderr}"
    );

    let (code, stdout, stderr) = slotwise(&["decode", "--json"], b"*2\r\n:1\r\n");
    assert_eq!(code, 1);
    assert!(
        stdout.contains(r#""error":"input ended inside a frame""#),
        "{stdout}"
    );
    assert!(stderr.contains("byte 8"), "{stderr}");

    let (code, _, stderr) = slotwise(&["decode"], &b"*1\r\n".repeat(100_000));
    assert_eq!(code, 1);
    assert!(stderr.contains("nesting depth limit"), "{stderr}");

    let (code, _, stderr) = slotwise(&["decode", "/nonexistent/capture"], b"");
    assert_eq!(code, 1);
    assert!(stderr.contains("/nonexistent/capture"), "{stderr}");
    let (code, _, _) = slotwise(&["decode", "--bogus"], b"");
    assert_eq!(code, 2);
}

#[test]
fn a_large_stream_is_decoded_in_pieces() {
    // 20,000 frames and one 8 MiB bulk: far more than one 64 KiB read.
    let mut input = Vec::new();
    let mut last_offset = 0;
    for i in 0..20_000 {
        last_offset = input.len();
        input.extend_from_slice(format!(":{i}\r\n").as_bytes());
    }
    let big = vec![b'z'; 8 << 20];
    input.extend_from_slice(format!("${}\r\n", big.len()).as_bytes());
    input.extend_from_slice(&big);
    input.extend_from_slice(b"\r\n");
    let (code, stdout, stderr) = slotwise(&["decode", "--json"], &input);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 20_001);
    assert_eq!(
        lines[19_999],
        format!(r#"{{"offset":{last_offset},"type":"integer","value":19999}}"#)
    );
    assert!(lines[20_000].len() > 8 << 20);
}

#[test]
fn verbatim_strings_print_their_text() {
    let (code, stdout, _) = slotwise(
        &["decode"],
        b"=21\r\ntxt:a:1\r\nb:2\r\nc:\"3\"\r\n\r\n*2\r\n=5\r\ntxt:x\r\n:1\r\n",
    );
    assert_eq!(code, 0);
    assert_eq!(stdout, "a:1\r\nb:2\r\nc:\"3\"\r\n1) x\n2) (integer) 1\n");
    let (_, json, _) = slotwise(&["decode", "--json"], b"=8\r\nmkd:# hi\r\n");
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"offset": 0, "type": "verbatim", "format": "mkd", "text": "# hi"})
    );
}

#[test]
fn limits_are_set_from_the_command_line() {
    let nested = b"*1\r\n*1\r\n*1\r\n:7\r\n";
    let (code, stdout, _) = slotwise(&["decode"], nested);
    assert_eq!((code, stdout.as_str()), (0, "1) 1) 1) (integer) 7\n"));
    let (code, stdout, stderr) = slotwise(&["decode", "--max-depth", "2"], nested);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    assert!(stderr.contains("nesting depth limit"), "{stderr}");
    let (code, _, _) = slotwise(&["decode", "--max-depth", "3", "-"], nested);
    assert_eq!(code, 0);

    // Deeper than the default 128, when allowed.
    let mut deep = b"*1\r\n".repeat(5_000);
    deep.extend_from_slice(b":1\r\n");
    let (code, _, stderr) = slotwise(&["decode", "--json"], &deep);
    assert_eq!(code, 1, "{stderr}");
    let (code, stdout, stderr) = slotwise(&["decode", "--max-depth", "5000", "--json"], &deep);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.matches("\"array\"").count(), 5_000);

    let bulk = b"+ok\r\n$10\r\n0123456789\r\n";
    let (code, stdout, stderr) = slotwise(&["decode", "--max-bulk-len", "9"], bulk);
    assert_eq!((code, stdout.as_str()), (1, "ok\n"));
    assert!(
        stderr.contains("bulk length limit") && stderr.contains("at byte 6"),
        "{stderr}"
    );
    let (code, _, _) = slotwise(&["decode", "--max-bulk-len", "1k"], bulk);
    assert_eq!(code, 0);
    let (code, _, stderr) = slotwise(&["decode", "--max-line-len", "3"], b"+toolong\r\n");
    assert_eq!(code, 1);
    assert!(stderr.contains("limit"), "{stderr}");
    let (code, _, stderr) = slotwise(
        &["decode", "--max-aggregate-len", "2"],
        b"*3\r\n:1\r\n:2\r\n:3\r\n",
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("limit"), "{stderr}");
    let (code, _, stderr) = slotwise(&["decode", "--max-frame-len", "8"], b"*2\r\n:1\r\n:2\r\n");
    assert_eq!(code, 1);
    assert!(stderr.contains("limit"), "{stderr}");

    for bad in [
        &["decode", "--max-depth"][..],
        &["decode", "--max-depth", "0"],
        &["decode", "--max-depth", "lots"],
        &["decode", "--max-depth", "1000000"],
        &["decode", "--max-bulk-len", "-5"],
    ] {
        let (code, _, stderr) = slotwise(bad, b"");
        assert_eq!(code, 2, "{bad:?}: {stderr}");
        assert!(stderr.contains("--max-"), "{bad:?}: {stderr}");
    }
}
