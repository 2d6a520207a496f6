//! A real SMTP server on loopback for the alert tests, in the test process:
//! [mailin](https://docs.rs/mailin) speaks the protocol (greeting, EHLO,
//! MAIL, RCPT, DATA with dot-unstuffing), this file does the sockets. Every
//! accepted message is kept as the bytes received, with its envelope
//! recipients; the first N messages can be refused at the end of DATA with a
//! reply of the test's choosing (451 transient, 5xx permanent).

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use mailin::{Action, Handler, Response, SessionBuilder};

/// The reply to a refused message, as an SMTP server writes it.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The reply code: 4xx transient, 5xx permanent.
    pub code: u16,
    /// The text after the code (an enhanced status code first, by custom).
    pub text: String,
}

impl Refusal {
    /// `451 4.3.0 Mailbox busy, try again later`: a transient failure.
    pub fn busy() -> Self {
        Self { code: 451, text: "4.3.0 Mailbox busy, try again later".into() }
    }
}

#[derive(Default)]
struct Received {
    /// Messages that reached the end of DATA, refused or not.
    seen: usize,
    /// The accepted messages: (bytes as received, envelope recipients).
    messages: Vec<(Vec<u8>, Vec<String>)>,
}

/// One SMTP session's handler: the message being received, and what the
/// server shares.
struct Session {
    refuse: Arc<(usize, Refusal)>,
    received: Arc<Mutex<Received>>,
    rcpt: Vec<String>,
    data: Vec<u8>,
    /// The refusal to write instead of mailin's reply to the end of DATA.
    refused: Arc<Mutex<Option<Refusal>>>,
}

impl Handler for Session {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.rcpt = to.to_vec();
        self.data.clear();
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let mut received = self.received.lock().unwrap();
        received.seen += 1;
        let (refuse, refusal) = &*self.refuse;
        if received.seen <= *refuse {
            // mailin 0.6.5 stays in its DATA state after an error reply to
            // the end of DATA, reading every later command as message text
            // (RFC 5321 4.1.1.4: the reply ends the transaction either way).
            // So mailin is told OK, which ends the transaction, and the
            // session writes the refusal in its place.
            self.data.clear();
            self.rcpt.clear();
            *self.refused.lock().unwrap() = Some(refusal.clone());
            return mailin::response::OK;
        }
        received.messages.push((std::mem::take(&mut self.data), std::mem::take(&mut self.rcpt)));
        Response::custom(250, "2.0.0 OK: queued".into())
    }
}

/// A real SMTP server on a loopback port; stops when dropped.
pub struct SmtpSink {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    received: Arc<Mutex<Received>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl SmtpSink {
    /// Starts the server; it refuses the first `refuse` messages with
    /// `451 4.3.0` ([`Refusal::busy`]).
    pub fn start(refuse: usize) -> Self {
        Self::refusing(refuse, Refusal::busy())
    }

    /// Starts the server; it refuses the first `refuse` messages with `refusal`.
    pub fn refusing(refuse: usize, refusal: Refusal) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the SMTP sink on loopback");
        let port = listener.local_addr().unwrap().port();
        let received: Arc<Mutex<Received>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let refuse = Arc::new((refuse, refusal));
        let (received2, stop2) = (received.clone(), stop.clone());
        let acceptor = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let refused = Arc::new(Mutex::new(None));
                let session = Session {
                    refuse: refuse.clone(),
                    received: received2.clone(),
                    rcpt: Vec::new(),
                    data: Vec::new(),
                    refused: refused.clone(),
                };
                // One thread a connection: a pooled client may keep one open.
                std::thread::spawn(move || serve(stream, session, &refused));
            }
        });
        Self { port, received, stop, acceptor: Some(acceptor) }
    }

    /// The accepted messages, in order: (raw bytes, envelope recipients).
    pub fn messages(&self) -> Vec<(Vec<u8>, Vec<String>)> {
        self.received.lock().unwrap().messages.clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor, which then sees the flag and returns.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// One SMTP session over `stream`, line by line, until the client quits,
/// hangs up, or is silent for a minute.
fn serve(stream: TcpStream, handler: Session, refused: &Mutex<Option<Refusal>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let peer = stream.peer_addr().map_or(IpAddr::from([127, 0, 0, 1]), |a| a.ip());
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    let mut session = SessionBuilder::new("ivcd-test-sink").build(peer, handler);
    if session.greeting().write_to(&mut writer).is_err() {
        return;
    }
    let mut line = Vec::with_capacity(128);
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let response = session.process(&line);
        if let Some(refusal) = refused.lock().unwrap().take() {
            let reply = format!("{} {}\r\n", refusal.code, refusal.text);
            if writer.write_all(reply.as_bytes()).and_then(|()| writer.flush()).is_err() {
                return;
            }
            continue;
        }
        match response.action {
            Action::NoReply => {}
            Action::Reply => {
                if response.write_to(&mut writer).and_then(|()| writer.flush()).is_err() {
                    return;
                }
            }
            Action::Close | Action::UpgradeTls => {
                let _ = response.write_to(&mut writer).and_then(|()| writer.flush());
                return;
            }
        }
    }
}
