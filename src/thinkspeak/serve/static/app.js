// thinkspeak browser client: microphone -> /v1/realtime (OpenAI Realtime events) -> speaker,
// with the live transcript, the Thinker's reasoning stream (tool calls included), a say/think timeline per answer
// and per-turn latency. Questions can also be typed (conversation.item.create + response.create).

const RATE = 24000; // pcm16 rate on the wire, both ways (the protocol's default)
const $ = (id) => document.getElementById(id);

// Exposed for tests and curious users: counters of what this page received.
const stats = { connected: false, micFrames: 0, micPeak: 0, audioDeltas: 0, audioBytes: 0, turns: 0, speechStarted: 0,
  errors: [], turnDetection: null, toolCalls: [], timelines: {}, floor: [] };
window.thinkspeak = { stats };

function b64ToBytes(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function bytesToB64(buffer) {
  const bytes = new Uint8Array(buffer);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

// Playback queue: pcm16 deltas scheduled back to back; flushed on barge-in.
class Player {
  constructor(ctx) {
    this.ctx = ctx;
    this.sources = [];
    this.nextTime = 0;
    this.item = null; // { id, startTime, sentMs }
  }

  play(itemId, bytes) {
    const samples = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1);
    if (samples.length === 0) return;
    const buffer = this.ctx.createBuffer(1, samples.length, RATE);
    const channel = buffer.getChannelData(0);
    for (let i = 0; i < samples.length; i++) channel[i] = samples[i] / 32768;
    const source = this.ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.ctx.destination);
    const start = Math.max(this.nextTime, this.ctx.currentTime + 0.03);
    if (!this.item || this.item.id !== itemId) this.item = { id: itemId, startTime: start, sentMs: 0, gapMs: 0 };
    else if (start > this.nextTime) this.item.gapMs += (start - this.nextTime) * 1000;
    source.start(start);
    this.nextTime = start + buffer.duration;
    this.item.sentMs += buffer.duration * 1000;
    this.sources.push(source);
    source.onended = () => { this.sources = this.sources.filter((s) => s !== source); };
  }

  get playing() { return this.nextTime > this.ctx.currentTime; }

  // Stop everything queued; return { itemId, playedMs } of the item that was playing, if any.
  flush() {
    for (const s of this.sources) { try { s.stop(); } catch (_) { /* already stopped */ } }
    this.sources = [];
    const item = this.item;
    const wasPlaying = this.playing;
    this.nextTime = 0;
    this.item = null;
    if (!item || !wasPlaying) return null;
    const elapsed = (this.ctx.currentTime - item.startTime) * 1000 - item.gapMs;
    return { itemId: item.id, playedMs: Math.max(0, Math.min(item.sentMs, Math.floor(elapsed))) };
  }
}

class Ui {
  constructor() {
    this.items = new Map();
    this.reasoningTurn = null;
    this.latencyRows = new Map();
  }

  status(text, kind) {
    $("status").textContent = text;
    $("status").className = "status " + kind;
  }

  floor(holder, pSpeak) {
    const el = $("floor");
    el.hidden = false;
    el.textContent = holder === "assistant" ? "the model holds the floor" : "you hold the floor";
    el.title = `the full-duplex model's P(speaking) ${pSpeak}`;
    el.className = "floor " + holder;
  }

  item(id, role) {
    let li = this.items.get(id);
    if (!li) {
      li = document.createElement("li");
      li.className = role;
      li.innerHTML = `<span class="who">${role === "user" ? "you" : "assistant"}</span><span class="text"></span>`;
      $("transcript").appendChild(li);
      this.items.set(id, li);
    }
    return li;
  }

  setText(id, role, text, pending = false) {
    const li = this.item(id, role);
    li.querySelector(".text").textContent = text;
    li.classList.toggle("pending", pending);
    $("transcript").scrollTop = $("transcript").scrollHeight;
  }

  appendText(id, role, delta) {
    const span = this.item(id, role).querySelector(".text");
    span.textContent += delta;
    $("transcript").scrollTop = $("transcript").scrollHeight;
  }

  reasoningBox(responseId) {
    const box = $("reasoning");
    if (this.reasoningTurn !== responseId) {
      this.reasoningTurn = responseId;
      const mark = document.createElement("span");
      mark.className = "turn";
      mark.textContent = `— turn ${stats.turns + 1} —`;
      box.appendChild(mark);
    }
    return box;
  }

  reasoning(responseId, delta) {
    const box = this.reasoningBox(responseId);
    box.appendChild(document.createTextNode(delta));
    box.scrollTop = box.scrollHeight;
    this.timeline(responseId, "think", delta.length);
  }

  // A tool the Thinker called from its think stream (a function_call item), then its result.
  tool(responseId, text) {
    const box = this.reasoningBox(responseId);
    const mark = document.createElement("span");
    mark.className = "tool";
    mark.textContent = text;
    box.appendChild(mark);
    box.scrollTop = box.scrollHeight;
  }

  // One strip per answer: segments in the order the model wrote them, each as wide as its characters
  // (say = spoken text, think = reasoning, tool = a call), so the 2:8 interleave is visible at a glance.
  timeline(responseId, kind, amount) {
    if (!responseId || amount <= 0) return;
    const runs = stats.timelines[responseId] || (stats.timelines[responseId] = []);
    let strip = document.querySelector(`.strip[data-response="${responseId}"]`);
    if (!strip) {
      const row = document.createElement("div");
      row.className = "row";
      row.innerHTML = `<span class="label">answer ${Object.keys(stats.timelines).length}</span><span class="strip"></span>`;
      strip = row.querySelector(".strip");
      strip.dataset.response = responseId;
      $("timelines").appendChild(row);
    }
    const last = runs[runs.length - 1];
    if (last && last[0] === kind) {
      last[1] += amount;
      strip.lastChild.style.flexGrow = last[1];
    } else {
      runs.push([kind, amount]);
      const seg = document.createElement("span");
      seg.className = kind;
      seg.style.flexGrow = amount;
      strip.appendChild(seg);
    }
  }

  latency(responseId, values) {
    let row = this.latencyRows.get(responseId);
    if (!row) {
      row = document.createElement("tr");
      row.innerHTML = `<td>${this.latencyRows.size + 1}</td>` + "<td>–</td>".repeat(5);
      $("latency").querySelector("tbody").appendChild(row);
      this.latencyRows.set(responseId, row);
    }
    const cols = ["speech_stopped", "transcript", "first_token", "first_audio", "client_first_audio"];
    cols.forEach((key, i) => {
      if (values[key] !== undefined) row.children[i + 1].textContent = Math.round(values[key]);
    });
  }
}

class Client {
  constructor() {
    this.ui = new Ui();
    this.ws = null;
    this.ctx = null;
    this.player = null;
    this.mic = null;
    this.speechStoppedAt = null; // performance.now() when speech_stopped arrived
    this.firstAudioSeen = new Set();
  }

  // Speaker and connection, made on the first user gesture (a click or a typed question).
  async ensureOpen() {
    if (!this.ctx) {
      this.ctx = new AudioContext({ sampleRate: RATE });
      this.player = new Player(this.ctx);
    }
    await this.ctx.resume();
    if (!this.ws) await this.connect();
  }

  async start() {
    await this.ensureOpen();
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    await this.ctx.audioWorklet.addModule("/static/mic-worklet.js");
    const source = this.ctx.createMediaStreamSource(stream);
    this.mic = new AudioWorkletNode(this.ctx, "mic-processor", { processorOptions: { rate: RATE } });
    source.connect(this.mic);
    this.stream = stream;
    this.mic.port.onmessage = (e) => this.sendAudio(e.data);
  }

  stop() {
    if (this.ws) this.ws.close();
    if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
    if (this.ctx) this.ctx.close();
    this.ws = this.ctx = this.stream = this.mic = null;
    this.ui.status("not connected", "idle");
  }

  connect() {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v1/realtime?model=thinkspeak`;
    // a server started with --api-key: open the page as http://HOST:PORT/#key=KEY (the fragment never leaves the browser)
    const key = new URLSearchParams(location.hash.slice(1)).get("key");
    this.ws = new WebSocket(url, key ? ["realtime", `openai-insecure-api-key.${key}`] : ["realtime"]);
    return new Promise((resolve, reject) => {
      this.ws.onopen = () => {
        stats.connected = true;
        this.ui.status("listening", "listening");
        resolve();
      };
      this.ws.onerror = () => reject(new Error("WebSocket failed"));
      this.ws.onclose = () => { stats.connected = false; this.ws = null; this.ui.status("disconnected", "error"); };
      this.ws.onmessage = (e) => this.onEvent(JSON.parse(e.data));
    });
  }

  send(event) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(event));
  }

  async ask(text) {
    await this.ensureOpen();
    this.send({ type: "conversation.item.create",
      item: { type: "message", role: "user", content: [{ type: "input_text", text }] } });
    this.send({ type: "response.create" });
    this.ui.status("thinking", "speaking");
  }

  sendAudio(buffer) {
    const view = new Int16Array(buffer);
    let peak = 0;
    for (let i = 0; i < view.length; i++) peak = Math.max(peak, Math.abs(view[i]));
    stats.micFrames++;
    stats.micPeak = Math.max(stats.micPeak, peak);
    $("level").style.width = `${Math.min(100, (peak / 32768) * 300)}%`;
    this.send({ type: "input_audio_buffer.append", audio: bytesToB64(buffer) });
  }

  onEvent(ev) {
    switch (ev.type) {
      case "session.created": {
        const td = ev.session.audio.input.turn_detection;
        if (td) $("turn").value = td.type;  // the server's default until the user picks another
        this.send({ type: "session.update", session: { type: "realtime",
          audio: { input: { format: { type: "audio/pcm", rate: RATE } }, output: { format: { type: "audio/pcm", rate: RATE } } } } });
        break;
      }
      case "input_audio_buffer.speech_started": {
        stats.speechStarted++;
        const cut = this.player.flush();
        if (cut) {
          this.send({ type: "conversation.item.truncate", item_id: cut.itemId, content_index: 0, audio_end_ms: cut.playedMs });
        }
        this.ui.setText(ev.item_id, "user", "…", true);
        this.ui.status("hearing you", "listening");
        break;
      }
      case "input_audio_buffer.speech_stopped":
        this.speechStoppedAt = performance.now();
        this.ui.status("thinking", "speaking");
        break;
      case "conversation.item.input_audio_transcription.completed":
        this.ui.setText(ev.item_id, "user", ev.transcript || "(nothing heard)");
        break;
      case "conversation.item.added":
        if (ev.item.type === "function_call_output") {
          this.ui.tool(this.currentResponse, `→ ${ev.item.output}`);
          break;
        }
        if (ev.item.role === "user" && ev.item.content && ev.item.content[0].type === "input_text") {
          this.ui.setText(ev.item.id, "user", ev.item.content[0].text);
        }
        break;
      case "response.created":
        this.currentResponse = ev.response.id;
        break;
      case "response.output_audio_transcript.delta":
      case "response.output_text.delta":
        this.ui.appendText(ev.item_id, "assistant", ev.delta);
        this.ui.timeline(ev.response_id, "say", ev.delta.length);
        break;
      case "response.function_call_arguments.done":
        stats.toolCalls.push({ name: ev.name, arguments: ev.arguments });
        this.ui.tool(ev.response_id, `${ev.name}(${ev.arguments})`);
        this.ui.timeline(ev.response_id, "tool", Math.max(4, ev.arguments.length));
        break;
      case "response.output_audio.delta": {
        const bytes = b64ToBytes(ev.delta);
        stats.audioDeltas++;
        stats.audioBytes += bytes.length;
        this.player.play(ev.item_id, bytes);
        if (!this.firstAudioSeen.has(ev.response_id)) {
          this.firstAudioSeen.add(ev.response_id);
          this.ui.status("speaking", "speaking");
          if (this.speechStoppedAt !== null) {
            this.clientFirstAudio = performance.now() - this.speechStoppedAt;
          }
        }
        break;
      }
      case "thinkspeak.floor":  // duplex mode: the full-duplex model says who holds the floor
        stats.floor.push(ev.holder);
        this.ui.floor(ev.holder, ev.p_speak);
        break;
      case "thinkspeak.reasoning.delta":
        this.ui.reasoning(ev.response_id, ev.delta);
        break;
      case "conversation.item.truncated": {
        const li = this.ui.items.get(ev.item_id);
        if (li) li.classList.add("interrupted");
        break;
      }
      case "response.output_audio_transcript.done":
        this.ui.setText(ev.item_id, "assistant", ev.transcript);
        break;
      case "thinkspeak.turn.latency": {
        // Server figures are from the true end of speech; "here" adds the network and this page,
        // measured from speech_stopped arrival plus the server's end-of-speech -> speech_stopped time.
        const values = { ...ev.latency_ms };
        if (this.clientFirstAudio !== undefined && values.speech_stopped !== undefined) {
          values.client_first_audio = values.speech_stopped + this.clientFirstAudio;
        }
        this.ui.latency(ev.response_id, values);
        this.clientFirstAudio = undefined;
        break;
      }
      case "response.done":
        stats.turns++;
        this.speechStoppedAt = null;
        this.ui.status("listening", "listening");
        break;
      case "session.updated": {
        const td = ev.session.audio.input.turn_detection;
        stats.turnDetection = td ? td.type : null;
        if (!td || td.type !== "duplex") $("floor").hidden = true;
        break;
      }
      case "error":
        stats.errors.push(ev.error);
        console.warn("server error", ev.error);
        break;
      default:
        break;
    }
  }
}

const client = new Client();
// semantic_vad ends a turn sooner when the words sound finished; duplex lets the full-duplex model decide
// (docs/server.md "Turn detection", "Duplex mode").
function turnDetection(kind) {
  if (kind === "duplex") return { type: "duplex", eagerness: "auto" };  // the full-duplex model holds the floor
  return kind === "semantic_vad" ? { type: "semantic_vad", eagerness: "auto" }
    : { type: "server_vad", threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500 };
}

$("turn").addEventListener("change", () => client.send({ type: "session.update", session: { type: "realtime",
  audio: { input: { turn_detection: turnDetection($("turn").value) } } } }));

$("ask").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("question").value.trim();
  if (!text) return;
  $("question").value = "";
  try {
    await client.ask(text);
  } catch (err) {
    client.ui.status(`could not ask: ${err.message}`, "error");
    stats.errors.push({ message: err.message });
  }
});

$("talk").addEventListener("click", async () => {
  const button = $("talk");
  if (client.mic) {
    client.stop();
    button.textContent = "Start talking";
    button.classList.remove("on");
    return;
  }
  try {
    await client.start();
    button.textContent = "Stop";
    button.classList.add("on");
  } catch (err) {
    client.ui.status(`could not start: ${err.message}`, "error");
    stats.errors.push({ message: err.message });
  }
});
