// AudioWorklet: microphone float samples -> pcm16 at the wire rate, posted in 20 ms frames.
// When the AudioContext already runs at the wire rate (the page asks for it) no resampling happens;
// otherwise samples are linearly interpolated to the wire rate.

class MicProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.outRate = options.processorOptions.rate;
    this.step = sampleRate / this.outRate; // input samples per output sample
    this.frameSize = Math.round(this.outRate * 0.02);
    this.frame = new Int16Array(this.frameSize);
    this.filled = 0;
    this.pos = 0; // fractional read position into the current input block
    this.last = 0; // previous input sample, for interpolation across blocks
  }

  push(value) {
    const s = Math.max(-1, Math.min(1, value));
    this.frame[this.filled++] = s < 0 ? s * 0x8000 : s * 0x7fff;
    if (this.filled === this.frameSize) {
      this.port.postMessage(this.frame.buffer, [this.frame.buffer]); // transferred: the array is now detached
      this.frame = new Int16Array(this.frameSize);
      this.filled = 0;
    }
  }

  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (!input) return true;
    if (this.step === 1) {
      for (let i = 0; i < input.length; i++) this.push(input[i]);
      return true;
    }
    while (this.pos < input.length) {
      const i = Math.floor(this.pos);
      const frac = this.pos - i;
      const a = i === 0 ? this.last : input[i - 1];
      const b = input[i];
      this.push(a + (b - a) * frac);
      this.pos += this.step;
    }
    this.pos -= input.length;
    this.last = input[input.length - 1];
    return true;
  }
}

registerProcessor("mic-processor", MicProcessor);
