// One /listen?format=json stream: its connection state, each message once, by id, and who is
// here. Used by stream_worker.js (shared by the tabs of a node) and by a page without
// SharedWorker.
(function (scope) {
  'use strict';

  var KEEP = 200; // messages kept for a tab that opens later
  var SEEN = 5000; // ids remembered against replays after a reconnect
  var MAX_NAME = 64; // code points, as POST /publish and /listen count them

  // A display name the node accepts: no control characters, well-formed UTF-16 (an unpaired
  // surrogate would make encodeURIComponent throw), trimmed as the node trims, at most 64 code
  // points. The node refuses a stream with a bad name, so the page never sends one.
  function cleanName(name) {
    var text = wellFormed(String(name === undefined || name === null ? '' : name))
      .replace(/[\u0000-\u001F\u007F]/g, '')
      .replace(/^[ ]+|[ ]+$/g, '');
    var points = Array.from(text);
    if (points.length > MAX_NAME) text = points.slice(0, MAX_NAME).join('').replace(/[ ]+$/, '');
    return text;
  }

  function wellFormed(text) {
    var out = '';
    for (var i = 0; i < text.length; ++i) {
      var unit = text.charCodeAt(i);
      if (unit >= 0xD800 && unit <= 0xDBFF && i + 1 < text.length
          && text.charCodeAt(i + 1) >= 0xDC00 && text.charCodeAt(i + 1) <= 0xDFFF) {
        out += text.charAt(i) + text.charAt(i + 1);
        ++i;
      } else {
        out += unit >= 0xD800 && unit <= 0xDFFF ? '\uFFFD' : text.charAt(i);
      }
    }
    return out;
  }

  function isClientId(id) {
    return typeof id === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(id);
  }

  // The stream of a browser (client id) with its display name; without a client, an anonymous
  // listener.
  function listenUrl(client, name) {
    var url = '/listen?format=json';
    if (isClientId(client)) {
      url += '&client=' + encodeURIComponent(client);
      var clean = cleanName(name);
      if (clean !== '') url += '&name=' + encodeURIComponent(clean);
    }
    return url;
  }

  // Presence as the page shows it: {count, listeners, people: [{person, name, nodes}], you},
  // from the stream's snapshot, then kept up to date by its join/leave/update/listeners events.
  function applyPresence(state, change) {
    if (!change || typeof change.type !== 'string') return state;
    if (change.type === 'snapshot') {
      return {
        count: Number(change.count) || 0,
        listeners: Number(change.listeners) || 0,
        people: Array.isArray(change.people)
          ? change.people.filter(validPerson).map(person).sort(byName) : [],
        you: typeof change.you === 'string' ? change.you : null,
        refused: typeof change.refused === 'string' ? change.refused : null
      };
    }
    if (!state) return state; // a change before any snapshot: wait for the snapshot
    var next = {
      count: Number(change.count) || 0,
      listeners: Number(change.listeners) || 0,
      people: state.people,
      you: state.you,
      refused: state.refused
    };
    if (change.type === 'join' || change.type === 'update' || change.type === 'leave') {
      if (!validPerson(change)) return state;
      next.people = state.people.filter(function (p) { return p.person !== change.person; });
      if (change.type !== 'leave') next.people.push(person(change));
    }
    next.people.sort(byName);
    return next;
  }

  function validPerson(p) {
    return p && typeof p.person === 'string';
  }

  function person(p) {
    return {
      person: p.person,
      name: typeof p.name === 'string' ? p.name : '',
      nodes: Array.isArray(p.nodes) ? p.nodes.map(String) : []
    };
  }

  // Named people by name, then the anonymous ones; ties by tag, so every page shows one order.
  function byName(a, b) {
    if ((a.name === '') !== (b.name === '')) return a.name === '' ? 1 : -1;
    if (a.name !== b.name) return a.name < b.name ? -1 : 1;
    return a.person < b.person ? -1 : a.person > b.person ? 1 : 0;
  }

  // emit({type: 'state', state}), emit({type: 'message', message}) and
  // emit({type: 'presence', presence}); state is one of 'connecting', 'connected',
  // 'reconnecting', 'offline'.
  function ChatStream(url, emit) {
    this.url = url;
    this.emit = emit;
    this.state = 'connecting';
    this.seen = new Set();
    this.recent = [];
    this.presence = null;
    this.lastEventId = ''; // the stream position of the last message, to resume from
    this.source = null;
    this.retryMs = 1000;
    this.timer = null;
  }

  ChatStream.prototype.setState = function (state) {
    if (state === this.state) return;
    this.state = state;
    this.emit({ type: 'state', state: state });
  };

  // The URL of a stream we open ourselves: where the last one was, so nothing is missed and
  // little is replayed (the browser's own reconnects send Last-Event-ID, which the node prefers).
  ChatStream.prototype.openUrl = function () {
    if (this.lastEventId === '') return this.url;
    return this.url + (this.url.indexOf('?') < 0 ? '?' : '&')
      + 'last_event_id=' + encodeURIComponent(this.lastEventId);
  };

  ChatStream.prototype.start = function () {
    var self = this;
    var source = new EventSource(this.openUrl());
    this.source = source;
    source.onopen = function () {
      self.retryMs = 1000;
      self.setState('connected');
    };
    source.onmessage = function (event) {
      if (event.lastEventId) self.lastEventId = event.lastEventId;
      self.receive(event.data);
    };
    source.addEventListener('presence', function (event) {
      self.receivePresence(event.data);
    });
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

  ChatStream.prototype.started = function () {
    return this.source !== null;
  };

  // The same stream with another URL (a new display name): the old one closes and the new one
  // resumes where it was, quickly enough for the node to call it an update, not a leave.
  ChatStream.prototype.reopen = function (url) {
    this.url = url;
    if (!this.started()) return this.start();
    this.source.onerror = null;
    this.source.close();
    clearTimeout(this.timer);
    this.start();
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

  ChatStream.prototype.receivePresence = function (data) {
    var change;
    try {
      change = JSON.parse(data);
    } catch (e) {
      return;
    }
    var next = applyPresence(this.presence, change);
    if (next === this.presence) return;
    this.presence = next;
    this.emit({ type: 'presence', presence: next });
  };

  ChatStream.cleanName = cleanName;
  ChatStream.isClientId = isClientId;
  ChatStream.listenUrl = listenUrl;
  ChatStream.applyPresence = applyPresence;
  scope.WatercoolerStream = ChatStream;
})(self);
