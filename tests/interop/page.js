// Browser side of the interop scenarios (W3C WebTransport API). Python calls
// wtRun(name, args); every scenario resolves to a JSON-serialisable value.
"use strict";

const enc = new TextEncoder();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dec = new TextDecoder();

function pattern(size) {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + 7) & 255;
  return out;
}

async function sha256(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function describe(e) {
  if (e === undefined || e === null) return { name: String(e) };
  return {
    name: e.name || typeof e,
    message: e.message || String(e),
    source: e.source === undefined ? null : e.source,
    streamErrorCode: e.streamErrorCode === undefined ? null : e.streamErrorCode,
  };
}

function open(args) {
  const options = {};
  if (args.hash) {
    options.serverCertificateHashes = [
      { algorithm: "sha-256", value: new Uint8Array(args.hash) },
    ];
  }
  if (args.protocols) options.protocols = args.protocols;
  return new WebTransport(args.url, options);
}

async function connect(args) {
  const wt = open(args);
  await wt.ready;
  return wt;
}

// Tell the server this side has processed the session's 200 response (Firefox 140
// drops a server-initiated stream that arrives before that; see docs/interop.md).
async function announce(wt) {
  const stream = await wt.createBidirectionalStream();
  await writeAll(stream.writable, enc.encode("ready"));
}

async function readAll(readable) {
  const reader = readable.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.byteLength;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

async function writeAll(writable, bytes, chunk = 65536) {
  const writer = writable.getWriter();
  for (let i = 0; i < bytes.byteLength; i += chunk) {
    await writer.write(bytes.subarray(i, Math.min(i + chunk, bytes.byteLength)));
  }
  await writer.close();
}

// The session's close as the browser reports it. Bounded (15 s), so that a scenario
// whose close never comes (a peer gap) ends instead of blocking the WebDriver.
async function closedInfo(wt) {
  const timeout = sleep(15000).then(() => ({ timeout: "closed did not settle in 15 s" }));
  const closed = wt.closed.then(
    (info) => ({ closeCode: info.closeCode, reason: info.reason }),
    (e) => ({ error: describe(e) }),
  );
  return await Promise.race([closed, timeout]);
}

// The browser ends the session once it has everything it waited for, so that no data
// in flight towards it can be cut off by the server's close.
async function done(wt) {
  wt.close({ closeCode: 0, reason: "done" });
  return await closedInfo(wt);
}

// W3C: new WebTransportError(message, {streamErrorCode}); Chromium 148 only accepts
// new WebTransportError({message, streamErrorCode}). Use whichever this browser has.
function streamError(code, message) {
  try {
    const e = new WebTransportError(message, { streamErrorCode: code });
    if (e.streamErrorCode === code) return e;
  } catch (_) {
    // fall through to the dictionary form
  }
  return new WebTransportError({ message, streamErrorCode: code });
}

// Progress marks, read back by the tests when a scenario times out.
window.trace = [];
const step = (mark) => window.trace.push(mark);


const scenarios = {
  // Open a session and report what the browser sees; wait for the server's close.
  async connectOnly(args) {
    const wt = await connect(args);
    const protocol = wt.protocol === undefined ? null : wt.protocol;
    return { protocol, closed: await closedInfo(wt) };
  },

  // Expect the session to fail to open; report the error.
  async connectFails(args) {
    const wt = open(args);
    wt.closed.catch(() => {});
    try {
      await wt.ready;
    } catch (e) {
      return { failed: true, error: describe(e) };
    }
    wt.close();
    return { failed: false };
  },

  async bidiEcho(args) {
    const wt = await connect(args);
    const stream = await wt.createBidirectionalStream();
    const data = pattern(args.size);
    const [, received] = await Promise.all([
      writeAll(stream.writable, data),
      readAll(stream.readable),
    ]);
    const result = { length: received.byteLength, sha256: await sha256(received) };
    result.closed = await done(wt);
    return result;
  },

  async uniToServer(args) {
    const wt = await connect(args);
    const stream = await wt.createUnidirectionalStream();
    await writeAll(stream, pattern(args.size));
    return { closed: await closedInfo(wt) };
  },

  async uniFromServer(args) {
    const wt = await connect(args);
    await announce(wt);
    const reader = wt.incomingUnidirectionalStreams.getReader();
    const { value } = await reader.read();
    const received = await readAll(value);
    const result = { length: received.byteLength, sha256: await sha256(received) };
    result.closed = await done(wt);
    return result;
  },

  async manyBidi(args) {
    const wt = await connect(args);
    const one = async (i) => {
      const stream = await wt.createBidirectionalStream();
      const text = `stream-${i}-` + "x".repeat(i % 50);
      const [, received] = await Promise.all([
        writeAll(stream.writable, enc.encode(text)),
        readAll(stream.readable),
      ]);
      return dec.decode(received) === text;
    };
    const tasks = [];
    for (let i = 0; i < args.count; i++) tasks.push(one(i));
    const ok = (await Promise.all(tasks)).filter((x) => x).length;
    return { ok, closed: await done(wt) };
  },

  async serverBidi(args) {
    const wt = await connect(args);
    await announce(wt);
    step("ready");
    const reader = wt.incomingBidirectionalStreams.getReader();
    const { value: stream } = await reader.read();
    step("accepted");
    const text = dec.decode(await readAll(stream.readable));
    await writeAll(stream.writable, enc.encode("reply:" + text));
    return { text, closed: await closedInfo(wt) };
  },

  // Send numbered datagrams until `want` distinct echoes came back (bounded rounds).
  async datagramEcho(args) {
    const wt = await connect(args);
    const writer = wt.datagrams.writable.getWriter();
    const echoed = new Set();
    const pump = (async () => {
      const reader = wt.datagrams.readable.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        echoed.add(dec.decode(value));
      }
    })();
    pump.catch(() => {});
    let sent = 0;
    for (let round = 0; round < 300 && echoed.size < args.want; round++) {
      await writer.write(enc.encode(`dg-${round}`));
      sent++;
      await sleep(10);
    }
    return { sent, echoed: Array.from(echoed).sort(), closed: await done(wt) };
  },

  // Send maxDatagramSize-byte datagrams until the server answers with a datagram.
  async datagramMaxSize(args) {
    const wt = await connect(args);
    const maxDatagramSize = wt.datagrams.maxDatagramSize;
    const writer = wt.datagrams.writable.getWriter();
    let got = null;
    const pump = (async () => {
      const reader = wt.datagrams.readable.getReader();
      const { value } = await reader.read();
      got = value;
    })();
    pump.catch(() => {});
    const data = pattern(maxDatagramSize);
    for (let round = 0; round < 300 && got === null; round++) {
      await writer.write(data);
      await sleep(20);
    }
    return {
      maxDatagramSize,
      receivedLength: got === null ? null : got.byteLength,
      receivedSha256: got === null ? null : await sha256(got),
      closed: await done(wt),
    };
  },

  async awaitClose(args) {
    const wt = await connect(args);
    return { closed: await closedInfo(wt) };
  },

  async closeWith(args) {
    const wt = await connect(args);
    // Make sure the server holds the session (it answers on this stream) before closing.
    const stream = await wt.createBidirectionalStream();
    await writeAll(stream.writable, enc.encode("hi"));
    const reply = dec.decode(await readAll(stream.readable));
    wt.close({ closeCode: args.code, reason: args.reason });
    return { reply, closed: await closedInfo(wt) };
  },

  // The server resets its side of a bidi stream; report what the reader sees.
  async readUntilReset(args) {
    const wt = await connect(args);
    const stream = await wt.createBidirectionalStream();
    await writeAll(stream.writable, enc.encode("go"));
    let error = null;
    try {
      await readAll(stream.readable);
    } catch (e) {
      error = describe(e);
    }
    return { error, closed: await done(wt) };
  },

  // The browser resets its sending side with a code.
  async resetWith(args) {
    const wt = await connect(args);
    const stream = await wt.createBidirectionalStream();
    const writer = stream.writable.getWriter();
    await writer.write(enc.encode("partial"));
    const reader = stream.readable.getReader();
    await reader.read(); // the server's "got": it holds the stream
    await writer.abort(streamError(args.code, "reset by browser"));
    return { closed: await closedInfo(wt) };
  },

  // The server sends STOP_SENDING after the first bytes; the writer must error with its
  // code. (No writes race the STOP_SENDING: Chromium 148 then sometimes reports a bare
  // NetworkError instead.)
  async writeUntilStopped(args) {
    const wt = await connect(args);
    const stream = await wt.createBidirectionalStream();
    const writer = stream.writable.getWriter();
    await writer.write(new Uint8Array(1024));
    let error = null;
    try {
      await writer.closed;
    } catch (e) {
      error = describe(e);
    }
    return { error, closed: await done(wt) };
  },

  // The browser asks the server to stop sending (STOP_SENDING with a code).
  async stopWith(args) {
    const wt = await connect(args);
    const stream = await wt.createBidirectionalStream();
    await writeAll(stream.writable, enc.encode("send"));
    step("sent");
    const reader = stream.readable.getReader();
    await reader.read();
    step("read");
    await reader.cancel(streamError(args.code, "stop by browser"));
    step("cancelled");
    return { closed: await closedInfo(wt) };
  },

  // Leave a session with a half-written stream open, for the page to be closed.
  async leaveOpen(args) {
    const wt = await connect(args);
    window.leftOpen = wt;
    const stream = await wt.createBidirectionalStream();
    const writer = stream.writable.getWriter();
    await writer.write(enc.encode("partial"));
    window.leftWriter = writer;
    return { opened: true };
  },

  // Echo without end of stream (aioquic's demo application echoes each chunk and never
  // ends its streams): write `text`, read until as many bytes came back; then resend a
  // datagram (bounded rounds) until its echo arrives.
  async echoWithoutEnd(args) {
    const wt = await connect(args);
    const stream = await wt.createBidirectionalStream();
    const writer = stream.writable.getWriter();
    await writer.write(enc.encode(args.text));
    const reader = stream.readable.getReader();
    let echoed = "";
    while (echoed.length < args.text.length) {
      const { value, done } = await reader.read();
      if (done) break;
      echoed += dec.decode(value);
    }
    const datagrams = wt.datagrams.writable.getWriter();
    let datagram = null;
    const pump = wt.datagrams.readable.getReader().read().then(({ value }) => {
      datagram = dec.decode(value);
    });
    pump.catch(() => {});
    for (let round = 0; round < 300 && datagram === null; round++) {
      await datagrams.write(enc.encode(args.datagram));
      await sleep(20);
    }
    return { echoed, datagram, closed: await done(wt) };
  },

  // `count` sessions one after another: echo on a stream, close with code i.
  async sequential(args) {
    const results = [];
    for (let i = 0; i < args.count; i++) {
      const wt = await connect(args);
      const stream = await wt.createBidirectionalStream();
      const text = `session-${i}`;
      const [, received] = await Promise.all([
        writeAll(stream.writable, enc.encode(text)),
        readAll(stream.readable),
      ]);
      wt.close({ closeCode: i, reason: text });
      await closedInfo(wt);
      results.push(dec.decode(received) === text);
    }
    return { ok: results.filter((x) => x).length };
  },
};

window.wtRun = async (name, args) => {
  try {
    return { ok: true, value: await scenarios[name](args) };
  } catch (e) {
    return { ok: false, error: describe(e) };
  }
};
