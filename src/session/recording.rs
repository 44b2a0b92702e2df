//! A terminal recording in the asciicast v2 format (asciinema's): a header line, then one
//! JSON array per event: `[seconds, "o", text]` for output, `[seconds, "r", "COLSxROWS"]`
//! for a resize and `[seconds, "m", label]` for a marker (a check run). Writing happens in a
//! task of its own so the terminal never waits for the disk; the file is bounded in size,
//! and output split inside a UTF-8 character is joined up before it is written.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

/// Events queued towards the writer; beyond this the terminal drops output from the
/// recording (and says so in it) rather than wait.
const QUEUE: usize = 1024;
/// The writer flushes to disk at least this often.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// How a recording ended: its size, and whether it stopped at its size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordingEnd {
    pub bytes: u64,
    pub truncated: bool,
}

/// Called once the recording's file is complete.
pub type OnEnd = Box<dyn FnOnce(RecordingEnd) + Send>;

/// What to record into.
pub struct RecordingFile {
    pub path: PathBuf,
    pub title: String,
    pub max_bytes: u64,
    pub on_end: OnEnd,
}

enum Entry {
    Output(Bytes),
    Resize(u16, u16),
    Marker(String),
}

/// The terminal's end of a recording. Dropping it ends the recording.
pub struct Recorder {
    queue: mpsc::Sender<(Duration, Entry)>,
    started: Instant,
    /// The terminal size the header gives.
    pub size: (u16, u16),
    /// Output chunks dropped because the writer fell behind, not yet reported.
    dropped: u64,
}

impl Recorder {
    /// Opens `file` and starts its writer, with the header for a `cols`x`rows` terminal.
    /// The terminal's first event should be its screen as it is (see `Terminal::record`).
    pub async fn start(file: RecordingFile, (cols, rows): (u16, u16)) -> std::io::Result<Self> {
        if let Some(dir) = file.path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        let out = tokio::fs::File::create(&file.path).await?;
        let header = serde_json::json!({
            "version": 2, "width": cols, "height": rows,
            "timestamp": crate::session::terminal::unix_now(),
            "title": file.title, "env": {"TERM": "xterm-256color"},
        });
        let (queue, entries) = mpsc::channel(QUEUE);
        tokio::spawn(write(out, header.to_string(), entries, file));
        Ok(Self {
            queue,
            started: Instant::now(),
            size: (cols, rows),
            dropped: 0,
        })
    }

    pub fn output(&mut self, bytes: Bytes) {
        if self.dropped > 0 {
            let note = format!("{} output chunks missing here", self.dropped);
            if self.send(Entry::Marker(note)) {
                self.dropped = 0;
            }
        }
        if !self.send(Entry::Output(bytes)) {
            self.dropped += 1;
        }
    }

    pub fn resize(&mut self, cols: u16, rows: u16) {
        self.send(Entry::Resize(cols, rows));
    }

    pub fn marker(&mut self, label: &str) {
        self.send(Entry::Marker(label.to_string()));
    }

    fn send(&self, entry: Entry) -> bool {
        self.queue.try_send((self.started.elapsed(), entry)).is_ok()
    }
}

/// Writes events until the recorder is dropped or the size limit is reached, then reports.
async fn write(
    out: tokio::fs::File,
    header: String,
    mut entries: mpsc::Receiver<(Duration, Entry)>,
    file: RecordingFile,
) {
    let mut out = tokio::io::BufWriter::new(out);
    let mut text = Utf8Joiner::default();
    let mut written = 0u64;
    let mut truncated = false;
    let mut flush = tokio::time::interval(FLUSH_EVERY);
    let result: std::io::Result<()> = async {
        written += line(&mut out, &header).await?;
        loop {
            let (at, entry) = tokio::select! {
                next = entries.recv() => match next {
                    Some(next) => next,
                    None => break,
                },
                _ = flush.tick() => {
                    out.flush().await?;
                    continue;
                }
            };
            let event = match entry {
                Entry::Output(bytes) => {
                    let chunk = text.push(&bytes);
                    if chunk.is_empty() {
                        continue;
                    }
                    serde_json::json!([seconds(at), "o", chunk])
                }
                Entry::Resize(cols, rows) => {
                    serde_json::json!([seconds(at), "r", format!("{cols}x{rows}")])
                }
                Entry::Marker(label) => serde_json::json!([seconds(at), "m", label]),
            };
            let event = event.to_string();
            if written + event.len() as u64 + 1 > file.max_bytes {
                let limit = serde_json::json!([seconds(at), "m", "recording stopped: size limit"]);
                written += line(&mut out, &limit.to_string()).await?;
                truncated = true;
                break;
            }
            written += line(&mut out, &event).await?;
        }
        out.flush().await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(path = %file.path.display(), "terminal recording stopped: {e}");
    }
    (file.on_end)(RecordingEnd {
        bytes: written,
        truncated,
    });
}

async fn line(out: &mut tokio::io::BufWriter<tokio::fs::File>, text: &str) -> std::io::Result<u64> {
    out.write_all(text.as_bytes()).await?;
    out.write_all(b"\n").await?;
    Ok(text.len() as u64 + 1)
}

/// Seconds with microseconds, as asciicast files have them.
fn seconds(at: Duration) -> f64 {
    at.as_micros() as f64 / 1e6
}

/// Turns a stream of byte chunks into text: a character split across two chunks is kept
/// until its end arrives, and bytes that are not UTF-8 become U+FFFD.
#[derive(Default)]
struct Utf8Joiner {
    pending: Vec<u8>,
}

impl Utf8Joiner {
    fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut text = String::new();
        let mut rest: &[u8] = &self.pending;
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    text.push_str(valid);
                    rest = &[];
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    text.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match e.error_len() {
                        // An incomplete character at the end: wait for the rest of it.
                        None => {
                            rest = after;
                            break;
                        }
                        Some(bad) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[bad..];
                        }
                    }
                }
            }
        }
        self.pending = rest.to_vec();
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_split_across_chunks_is_joined() {
        let mut joiner = Utf8Joiner::default();
        let namaste = "नमस्ते".as_bytes();
        assert_eq!(joiner.push(&namaste[..4]), "न");
        assert_eq!(joiner.push(&namaste[4..]), "मस्ते");
        assert_eq!(joiner.push(b"ok"), "ok");
    }

    #[test]
    fn bytes_that_are_not_utf8_become_replacement_characters() {
        let mut joiner = Utf8Joiner::default();
        assert_eq!(joiner.push(b"a\xffb"), "a\u{fffd}b");
    }

    #[tokio::test]
    async fn a_recording_is_asciicast_and_stops_at_its_limit() {
        let path = std::env::temp_dir()
            .join(format!("pathshala-cast-{}", uuid::Uuid::new_v4()))
            .join("one.cast");
        let (done, ended) = tokio::sync::oneshot::channel();
        let file = RecordingFile {
            path: path.clone(),
            title: "Sita: first-steps".into(),
            max_bytes: 400,
            on_end: Box::new(move |end| {
                let _ = done.send(end);
            }),
        };
        let mut recorder = Recorder::start(file, (80, 24)).await.unwrap();
        recorder.output(Bytes::from_static(b"\x1bc$ "));
        recorder.output(Bytes::from_static(b"echo hi\r\nhi\r\n"));
        recorder.resize(100, 30);
        recorder.marker("step 1: failed");
        for _ in 0..20 {
            recorder.output(Bytes::from_static(b"0123456789"));
        }
        drop(recorder);
        let end = ended.await.unwrap();
        assert!(end.truncated);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(end.bytes, text.len() as u64);
        assert!(end.bytes <= 400 + 60, "{}", end.bytes);
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["version"], 2);
        assert_eq!(lines[0]["width"], 80);
        assert_eq!(lines[1][1], "o");
        assert_eq!(lines[1][2], "\u{1b}c$ ");
        assert_eq!(lines[2][2], "echo hi\r\nhi\r\n");
        assert_eq!(lines[3], serde_json::json!([lines[3][0], "r", "100x30"]));
        assert_eq!(lines[4][2], "step 1: failed");
        assert_eq!(lines.last().unwrap()[2], "recording stopped: size limit");
    }
}
