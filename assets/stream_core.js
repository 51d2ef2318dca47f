// One /listen?format=json stream: its connection state, and each message once, by id.
// Used by stream_worker.js (shared by the tabs of a node) and by a page without SharedWorker.
(function (scope) {
  'use strict';

  var KEEP = 200; // messages kept for a tab that opens later
  var SEEN = 5000; // ids remembered against replays after a reconnect

  // emit({type: 'state', state}) and emit({type: 'message', message}); state is one of
  // 'connecting', 'connected', 'reconnecting', 'offline'.
  function ChatStream(url, emit) {
    this.url = url;
    this.emit = emit;
    this.state = 'connecting';
    this.seen = new Set();
    this.recent = [];
    this.source = null;
    this.retryMs = 1000;
    this.timer = null;
  }

  ChatStream.prototype.setState = function (state) {
    if (state === this.state) return;
    this.state = state;
    this.emit({ type: 'state', state: state });
  };

  ChatStream.prototype.start = function () {
    var self = this;
    var source = new EventSource(this.url);
    this.source = source;
    source.onopen = function () {
      self.retryMs = 1000;
      self.setState('connected');
    };
    source.onmessage = function (event) {
      self.receive(event.data);
    };
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (an error answer rather than a lost connection): retry ourselves.
        self.setState('offline');
        source.close();
        clearTimeout(self.timer);
        self.timer = setTimeout(function () { self.start(); }, self.retryMs);
        self.retryMs = Math.min(self.retryMs * 2, 15000);
      } else {
        self.setState(navigator.onLine === false ? 'offline' : 'reconnecting');
      }
    };
  };

  ChatStream.prototype.receive = function (data) {
    var message;
    try {
      message = JSON.parse(data);
    } catch (e) {
      return;
    }
    if (!message || typeof message.id !== 'string' || this.seen.has(message.id)) return;
    this.seen.add(message.id);
    if (this.seen.size > SEEN) this.seen.delete(this.seen.values().next().value);
    this.recent.push(message);
    if (this.recent.length > KEEP) this.recent.shift();
    this.emit({ type: 'message', message: message });
  };

  scope.WatercoolerStream = ChatStream;
})(self);
