//! The terminal of a session: one shell kept alive between connections, a server-side screen
//! (so a reconnecting browser sees exactly what is there now), and a bounded fan-out to the
//! browsers attached to it.

use std::num::NonZeroU16;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::{broadcast, mpsc, watch};

use super::recording::Recorder;
use crate::sandbox::Sandboxes;

/// Output chunks buffered per terminal for attached browsers. A browser that falls further
/// behind skips the backlog and receives a fresh screen instead, so a slow client costs at
/// most this many chunks (each at most 8 KiB) of memory.
pub const OUTPUT_BACKLOG: usize = 64;
/// Keystroke messages queued towards the shell before the sender waits (backpressure).
const INPUT_QUEUE: usize = 64;
/// Size of a new terminal until a browser says otherwise.
pub const DEFAULT_SIZE: (u16, u16) = (80, 24);
/// A shell that exits sooner than this after starting counts as a failed start.
const QUICK_EXIT: Duration = Duration::from_secs(2);
/// A sandbox that is not running is given this long to come back (a restart) before the
/// terminal ends.
const RESTART_GRACE: Duration = Duration::from_secs(20);
/// After this many failed starts in a row, the terminal gives up.
const MAX_QUICK_EXITS: u32 = 10;
/// Pause before the next start, times the number of failures in a row.
const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// Whether the shell is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminalState {
    Running,
    /// The shell cannot run any more (the container is gone or the shell keeps failing).
    Ended(String),
}

/// What an attaching browser receives: the current screen, then every later output chunk.
pub struct Attachment {
    pub snapshot: Bytes,
    pub output: broadcast::Receiver<Bytes>,
    /// Ends the attachment when dropped: a learner's ([`AttachGuard`]) or a watcher's.
    _guard: Box<dyn Send>,
}

/// Notices a learner's open terminals receive in text frames, beside the output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Notice {
    /// An instructor started (`watching: true`) or stopped watching this terminal.
    Watch { watching: bool, by: String },
    /// A short message from the instructor to the whole class.
    Announcement { text: String, by: String, at: i64 },
    /// The instructor replaced this sandbox with a fresh one: the page moves to `session`.
    Replaced { session: String, by: String },
    /// The terminal's size changed (for watchers, whose view follows the learner's).
    Size { cols: u16, rows: u16 },
}

/// Notices buffered per terminal for a learner's browser that is busy.
const NOTICE_BACKLOG: usize = 16;

/// An instructor watching: counted apart from learners, it never keeps a sandbox alive.
struct WatchGuard(Arc<Shared>, u64);

impl Drop for WatchGuard {
    fn drop(&mut self) {
        let mut watchers = self.0.watchers();
        if let Some(at) = watchers.iter().position(|(id, _)| *id == self.1) {
            let (_, by) = watchers.remove(at);
            let _ = self.0.notices.send(Notice::Watch {
                watching: false,
                by,
            });
        }
    }
}

/// Called with the number of browsers still attached when one leaves.
pub type OnDetach = Box<dyn FnOnce(usize) + Send>;

struct AttachGuard(Arc<Shared>, Option<OnDetach>);

impl Drop for AttachGuard {
    fn drop(&mut self) {
        let left = self.0.attached.fetch_sub(1, Ordering::SeqCst) - 1;
        self.0.touch();
        if let Some(on_detach) = self.1.take() {
            on_detach(left);
        }
    }
}

/// Screen and fan-out, changed together under one lock so that an attaching browser never
/// misses or repeats a chunk between its snapshot and its first live chunk.
struct Screen {
    parser: vt100::Parser,
    output: broadcast::Sender<Bytes>,
}

struct Shared {
    screen: Mutex<Screen>,
    exec_id: Mutex<Option<String>>,
    attached: AtomicUsize,
    /// Unix seconds of the last keystroke, attach or detach.
    last_active: AtomicI64,
    state: watch::Sender<TerminalState>,
    /// Instructors watching now, each with a number of its own and their name.
    watchers: Mutex<Vec<(u64, String)>>,
    next_watcher: std::sync::atomic::AtomicU64,
    notices: broadcast::Sender<Notice>,
    /// The recording of this terminal's output, while there is one.
    recorder: Mutex<Option<Recorder>>,
    /// Set by the first caller to start a recording, so two never start at once.
    recording_claimed: std::sync::atomic::AtomicBool,
}

impl Shared {
    fn screen(&self) -> std::sync::MutexGuard<'_, Screen> {
        self.screen.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn publish(&self, bytes: Bytes) {
        let mut screen = self.screen();
        screen.parser.process(&bytes);
        if let Some(recorder) = self.recorder().as_mut() {
            recorder.output(bytes.clone());
        }
        // No browser attached is normal; the screen above still records the output.
        let _ = screen.output.send(bytes);
    }

    /// The screen size as (columns, rows).
    fn size(&self) -> (u16, u16) {
        let (rows, cols) = self.screen().parser.screen().size();
        (cols.get(), rows.get())
    }

    fn touch(&self) {
        self.last_active.store(unix_now(), Ordering::SeqCst);
    }

    fn recorder(&self) -> std::sync::MutexGuard<'_, Option<Recorder>> {
        self.recorder.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn watchers(&self) -> std::sync::MutexGuard<'_, Vec<(u64, String)>> {
        self.watchers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A session's terminal. Dropping it stops the shell's driver task.
pub struct Terminal {
    shared: Arc<Shared>,
    input: mpsc::Sender<Bytes>,
    sandboxes: Sandboxes,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Terminal {
    /// Starts driving a shell in `container_id`; the first shell starts right away.
    pub fn spawn(sandboxes: Sandboxes, container_id: String, last_active: i64) -> Self {
        let (cols, rows) = DEFAULT_SIZE;
        let (output, _) = broadcast::channel(OUTPUT_BACKLOG);
        let shared = Arc::new(Shared {
            screen: Mutex::new(Screen {
                parser: vt100::Parser::new(nonzero(rows), nonzero(cols), 0),
                output,
            }),
            exec_id: Mutex::new(None),
            attached: AtomicUsize::new(0),
            last_active: AtomicI64::new(last_active),
            state: watch::Sender::new(TerminalState::Running),
            watchers: Mutex::new(Vec::new()),
            next_watcher: std::sync::atomic::AtomicU64::new(0),
            notices: broadcast::channel(NOTICE_BACKLOG).0,
            recorder: Mutex::new(None),
            recording_claimed: std::sync::atomic::AtomicBool::new(false),
        });
        let (input, input_rx) = mpsc::channel(INPUT_QUEUE);
        let task = tokio::spawn(drive(
            sandboxes.clone(),
            container_id,
            shared.clone(),
            Arc::new(tokio::sync::Mutex::new(input_rx)),
        ));
        Self {
            shared,
            input,
            sandboxes,
            task,
        }
    }

    /// Attaches a browser: the current screen plus a feed of what comes next;
    /// `on_detach` runs when the attachment is dropped.
    pub fn attach(&self, on_detach: OnDetach) -> Attachment {
        self.shared.attached.fetch_add(1, Ordering::SeqCst);
        self.shared.touch();
        let (snapshot, output) = self.snapshot_and_subscribe();
        Attachment {
            snapshot,
            output,
            _guard: Box::new(AttachGuard(self.shared.clone(), Some(on_detach))),
        }
    }

    /// Attaches an instructor read-only: the same screen and feed as a learner, but not
    /// counted as attached and no activity, so a watched idle sandbox still expires. The
    /// learner's terminals are told who is watching, and told again when they stop.
    pub fn watch(&self, by: &str) -> Attachment {
        let id = self.shared.next_watcher.fetch_add(1, Ordering::SeqCst);
        self.shared.watchers().push((id, by.to_string()));
        let _ = self.shared.notices.send(Notice::Watch {
            watching: true,
            by: by.to_string(),
        });
        let (snapshot, output) = self.snapshot_and_subscribe();
        Attachment {
            snapshot,
            output,
            _guard: Box::new(WatchGuard(self.shared.clone(), id)),
        }
    }

    /// The names of the instructors watching now (one per open watch).
    pub fn watchers(&self) -> Vec<String> {
        self.shared
            .watchers()
            .iter()
            .map(|(_, by)| by.clone())
            .collect()
    }

    /// Claims the right to start this terminal's recording: true for the first caller only
    /// (until [`Terminal::release_recording`]).
    pub fn claim_recording(&self) -> bool {
        !self.shared.recording_claimed.swap(true, Ordering::SeqCst)
    }

    /// Gives up a claim that did not lead to a recording.
    pub fn release_recording(&self) {
        self.shared.recording_claimed.store(false, Ordering::SeqCst);
    }

    /// Records from now on: the screen as it is, then every output chunk, resize and marker,
    /// in step with what attached browsers receive.
    pub fn record(&self, mut recorder: Recorder) {
        let screen = self.shared.screen();
        let (rows, cols) = screen.parser.screen().size();
        if recorder.size != (cols.get(), rows.get()) {
            recorder.resize(cols.get(), rows.get());
        }
        recorder.output(render(screen.parser.screen()));
        *self.shared.recorder() = Some(recorder);
    }

    /// Ends the recording, if there is one (its file is completed in the background).
    pub fn stop_recording(&self) {
        self.shared.recorder().take();
    }

    /// Adds a marker to the recording (a check run), if there is one.
    pub fn mark(&self, label: &str) {
        if let Some(recorder) = self.shared.recorder().as_mut() {
            recorder.marker(label);
        }
    }

    /// Notices for a learner's browser from now on.
    pub fn notices(&self) -> broadcast::Receiver<Notice> {
        self.shared.notices.subscribe()
    }

    /// Tells the learner's open terminals something (an announcement, a replacement).
    pub fn notify(&self, notice: Notice) {
        // Nobody attached is normal: the notice was for a page that is not open.
        let _ = self.shared.notices.send(notice);
    }

    /// For a browser that fell behind: a fresh screen and a fresh feed.
    pub fn resync(&self, attachment: &mut Attachment) -> Bytes {
        let (snapshot, output) = self.snapshot_and_subscribe();
        attachment.output = output;
        snapshot
    }

    fn snapshot_and_subscribe(&self) -> (Bytes, broadcast::Receiver<Bytes>) {
        let screen = self.shared.screen();
        (render(screen.parser.screen()), screen.output.subscribe())
    }

    /// Sends keystrokes to the shell, waiting if the shell is not reading (backpressure).
    pub async fn send_input(&self, bytes: Bytes) {
        self.shared.touch();
        // Fails only once the terminal is shutting down; the keystrokes have nowhere to go.
        let _ = self.input.send(bytes).await;
    }

    /// Resizes the shell's terminal and the server-side screen.
    pub async fn resize(&self, cols: u16, rows: u16) {
        {
            let mut screen = self.shared.screen();
            screen
                .parser
                .screen_mut()
                .set_size(nonzero(rows), nonzero(cols));
            if let Some(recorder) = self.shared.recorder().as_mut() {
                recorder.resize(cols, rows);
            }
        }
        self.notify(Notice::Size { cols, rows });
        let exec_id = self
            .shared
            .exec_id
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(exec_id) = exec_id
            && let Err(e) = self.sandboxes.resize_shell(&exec_id, cols, rows).await
        {
            tracing::debug!("resize failed: {e}");
        }
    }

    /// Ends the terminal now: the shell's driver stops and attached browsers are told why.
    pub fn close(&self, reason: &str) {
        self.task.abort();
        end(&self.shared, reason);
        self.stop_recording();
    }

    /// Stops driving the shell without ending the terminal (the server is stopping; the
    /// sandbox lives on and the next start attaches a new shell).
    pub fn stop(&self) {
        self.task.abort();
        self.stop_recording();
    }

    pub fn state(&self) -> watch::Receiver<TerminalState> {
        self.shared.state.subscribe()
    }

    /// The terminal's size as (columns, rows).
    pub fn size(&self) -> (u16, u16) {
        self.shared.size()
    }

    /// How many browsers are attached now.
    pub fn attached(&self) -> usize {
        self.shared.attached.load(Ordering::SeqCst)
    }

    /// Unix seconds of the last keystroke, attach or detach.
    pub fn last_active(&self) -> i64 {
        self.shared.last_active.load(Ordering::SeqCst)
    }

    /// The screen as plain text (for tests and diagnostics).
    pub fn screen_text(&self) -> String {
        self.shared.screen().parser.screen().contents()
    }
}

/// Keeps a shell running: starts it, pumps its output into the screen, restarts it when the
/// learner types `exit`, and gives up when the container is gone or the shell keeps failing.
async fn drive(
    sandboxes: Sandboxes,
    container_id: String,
    shared: Arc<Shared>,
    input: Arc<tokio::sync::Mutex<mpsc::Receiver<Bytes>>>,
) {
    let mut failures = 0;
    loop {
        let size = shared.size();
        let started = Instant::now();
        let ran = match sandboxes.start_shell(&container_id, size.0, size.1).await {
            Ok(shell) => {
                pump(&sandboxes, &shared, shell, size, input.clone()).await;
                true
            }
            Err(e) => {
                tracing::debug!(container = %container_id, "shell did not start: {e}");
                false
            }
        };
        if !wait_until_running(&sandboxes, &container_id).await {
            end(&shared, "the sandbox has stopped");
            return;
        }
        // A shell that cannot start or exits at once (a restart in progress, a broken
        // image) is retried with growing pauses, then given up on.
        failures = if started.elapsed() < QUICK_EXIT {
            failures + 1
        } else {
            0
        };
        if failures >= MAX_QUICK_EXITS {
            end(&shared, "the shell keeps exiting; reset the sandbox");
            return;
        }
        if ran {
            shared.publish(Bytes::from_static(
                b"\r\n\x1b[2m[shell exited; starting a new one]\x1b[0m\r\n",
            ));
        }
        tokio::time::sleep(RETRY_PAUSE * failures).await;
    }
}

/// Runs one shell until it exits: its output into the screen, keystrokes into it.
async fn pump(
    sandboxes: &Sandboxes,
    shared: &Shared,
    shell: crate::sandbox::Shell,
    size: (u16, u16),
    input: Arc<tokio::sync::Mutex<mpsc::Receiver<Bytes>>>,
) {
    *shared.exec_id.lock().unwrap_or_else(|e| e.into_inner()) = Some(shell.exec_id.clone());
    // A resize that arrived while the shell was starting found no exec to resize; apply it.
    let now = shared.size();
    if now != size {
        let _ = sandboxes.resize_shell(&shell.exec_id, now.0, now.1).await;
    }
    let mut stdin = shell.input;
    // Input is written by its own task so a shell that is not reading its input never
    // stops us from reading its output (which would deadlock both).
    let _writer = AbortOnDrop(tokio::spawn(async move {
        let mut input = input.lock().await;
        while let Some(bytes) = input.recv().await {
            if stdin.write_all(&bytes).await.is_err() || stdin.flush().await.is_err() {
                break;
            }
        }
    }));
    let mut output = shell.output;
    while let Some(Ok(chunk)) = output.next().await {
        shared.publish(chunk.into_bytes());
    }
}

/// Aborts a task when dropped, so the shell's input writer never outlives its driver (which
/// may itself be aborted).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Whether the container runs, waiting [`RESTART_GRACE`] for one that is restarting. While
/// the engine itself does not answer, it keeps waiting: an engine outage is not a dead
/// sandbox.
async fn wait_until_running(sandboxes: &Sandboxes, container_id: &str) -> bool {
    let mut deadline = Instant::now() + RESTART_GRACE;
    loop {
        match sandboxes.is_running(container_id).await {
            Ok(true) => return true,
            Ok(false) if Instant::now() >= deadline => return false,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(container = %container_id, "waiting for the engine: {e}");
                deadline = Instant::now() + RESTART_GRACE;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn end(shared: &Shared, reason: &str) {
    shared.publish(Bytes::from(format!("\r\n\x1b[2m[{reason}]\x1b[0m\r\n")));
    shared
        .state
        .send_replace(TerminalState::Ended(reason.to_string()));
}

/// Escape codes that redraw `screen` on a fresh terminal: reset, alternate screen if in use,
/// contents with colours, input modes and the cursor.
fn render(screen: &vt100::Screen) -> Bytes {
    let mut out = String::from("\x1bc");
    if screen.alternate_screen() {
        out.push_str("\x1b[?1049h");
    }
    out.push_str(&screen.state_formatted());
    out.push_str(&screen.cursor_state_formatted());
    Bytes::from(out)
}

fn nonzero(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap_or(NonZeroU16::MIN)
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendered_screen_redraws_the_same_text() {
        let mut original = vt100::Parser::new(nonzero(5), nonzero(20), 0);
        original.process(b"\x1b[31mhello\x1b[0m\r\nworld$ ");
        let mut copy = vt100::Parser::new(nonzero(5), nonzero(20), 0);
        copy.process(&render(original.screen()));
        assert_eq!(copy.screen().contents(), original.screen().contents());
        assert_eq!(
            copy.screen().cursor_position(),
            original.screen().cursor_position()
        );
    }

    #[test]
    fn a_full_screen_program_is_redrawn_on_the_alternate_screen() {
        let mut original = vt100::Parser::new(nonzero(5), nonzero(20), 0);
        original.process(b"prompt$ top\r\n\x1b[?1049h\x1b[Htop - 10:00");
        let mut copy = vt100::Parser::new(nonzero(5), nonzero(20), 0);
        copy.process(&render(original.screen()));
        assert!(copy.screen().alternate_screen());
        assert!(copy.screen().contents().starts_with("top - 10:00"));
    }
}
