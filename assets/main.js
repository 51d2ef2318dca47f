// The chat page: shows every message of the cluster, newest first, as plain text (never parsed
// as HTML), with its author, origin node and time; publishes with fetch to show refusals; shows
// who is here (the browser's random id and display name go with its stream).
(function () {
  'use strict';

  if (window.top !== window) return; // the hidden iframe, after a form post without script

  var messages = document.getElementById('messages');
  var form = document.querySelector('form[action="/publish"]');
  var nameInput = document.getElementById('name');
  var messageInput = document.getElementById('message');
  var errorLine = document.getElementById('publish-error');
  var statusLine = document.getElementById('status');
  var presenceBox = document.getElementById('presence-box');
  var presenceLine = document.getElementById('presence');
  var peopleList = document.getElementById('people');
  var presenceNote = document.getElementById('presence-note');
  var Stream = window.WatercoolerStream;

  var MAX_SHOWN = 500;
  var shown = new Map(); // id -> li: each message once, also after a reconnect replays history
  var LABELS = {
    connecting: 'Connecting…',
    connected: 'Connected',
    reconnecting: 'Reconnecting…',
    offline: 'Offline'
  };

  function storageGet(key, fallback) {
    try {
      var value = window.localStorage.getItem(key);
      return value === null ? fallback : value;
    } catch (e) {
      return fallback;
    }
  }

  function storageSet(key, value) {
    try {
      window.localStorage.setItem(key, value);
    } catch (e) { /* storage disabled: the page still works, it just forgets */ }
  }

  // Ids of the messages this browser published here, shared by its tabs through localStorage.
  var OWN_KEY = 'watercooler.own';
  var own = new Set(parseOwn(storageGet(OWN_KEY, '[]')));

  function parseOwn(text) {
    try {
      var list = JSON.parse(text);
      return Array.isArray(list) ? list.filter(function (id) { return typeof id === 'string'; }) : [];
    } catch (e) {
      return [];
    }
  }

  function markOwn(id) {
    own.add(id);
    var list = Array.from(own).slice(-500);
    storageSet(OWN_KEY, JSON.stringify(list));
    var line = shown.get(id);
    if (line) line.classList.add('own');
  }

  window.addEventListener('storage', function (event) {
    if (event.key !== OWN_KEY) return;
    parseOwn(event.newValue || '[]').forEach(function (id) {
      own.add(id);
      var line = shown.get(id);
      if (line) line.classList.add('own');
    });
  });

  function span(className, text) {
    var element = document.createElement('span');
    element.className = className;
    element.textContent = text;
    return element;
  }

  function display(message) {
    if (shown.has(message.id)) return;
    var line = document.createElement('li');
    line.className = 'message';
    line.dataset.id = message.id;
    if (own.has(message.id)) line.classList.add('own');

    var meta = document.createElement('div');
    meta.className = 'meta';
    var author = typeof message.author === 'string' && message.author !== '' ? message.author : '';
    var who = span('author', author || 'anonymous');
    if (!author) who.classList.add('anonymous');
    meta.appendChild(who);
    meta.appendChild(span('you', ' (you)'));
    meta.appendChild(document.createTextNode(' · '));
    meta.appendChild(span('origin', String(message.origin)));
    meta.appendChild(document.createTextNode(' · '));
    var time = document.createElement('time');
    var when = new Date(Number(message.published_ms));
    if (!isNaN(when.getTime())) {
      time.dateTime = when.toISOString();
      time.textContent = when.toLocaleTimeString();
    }
    meta.appendChild(time);

    var text = document.createElement('div');
    text.className = 'text';
    text.textContent = String(message.text);

    line.appendChild(meta);
    line.appendChild(text);
    messages.insertBefore(line, messages.firstChild);
    shown.set(message.id, line);
    while (messages.children.length > MAX_SHOWN) {
      var last = messages.lastElementChild;
      shown.delete(last.dataset.id);
      messages.removeChild(last);
    }
  }

  function showState(state) {
    statusLine.hidden = false;
    statusLine.dataset.state = state;
    statusLine.textContent = LABELS[state] || state;
  }

  // "3 here + 1 listening" and the names, as text; the browser's own entry says "(you)".
  function showPresence(presence) {
    if (!presence) return;
    presenceBox.hidden = false;
    var text = presence.count + ' here';
    if (presence.listeners > 0) text += ' + ' + presence.listeners + ' listening';
    if (presenceLine.textContent !== text) presenceLine.textContent = text;
    presenceLine.dataset.count = String(presence.count);
    presenceLine.dataset.listeners = String(presence.listeners);
    presenceBox.dataset.you = presence.you || '';
    while (peopleList.firstChild) peopleList.removeChild(peopleList.firstChild);
    presence.people.forEach(function (person) {
      var item = document.createElement('li');
      item.className = 'person';
      item.dataset.person = person.person;
      item.title = person.nodes.join(', ');
      var name = span('name', person.name || 'anonymous');
      if (!person.name) name.classList.add('anonymous');
      item.appendChild(name);
      if (person.person === presence.you) {
        item.classList.add('me');
        item.appendChild(span('you', ' (you)'));
      }
      peopleList.appendChild(item);
    });
    // The node counts this browser as a listener only, when it has as many people as it takes.
    var note = REFUSED[presence.refused] || '';
    presenceNote.hidden = note === '';
    presenceNote.textContent = note;
  }

  var REFUSED = {
    address: 'You are counted as listening: too many people from your address.',
    total: 'You are counted as listening: the room has as many people as it takes.'
  };

  function handle(event) {
    if (!event) return;
    if (event.type === 'hello') {
      showState(event.state);
      event.messages.forEach(display);
      showPresence(event.presence);
    } else if (event.type === 'state') {
      showState(event.state);
    } else if (event.type === 'message') {
      display(event.message);
    } else if (event.type === 'presence') {
      showPresence(event.presence);
    }
  }

  // This browser's random id (128 bits), shared by its tabs; without storage, this page's own.
  var CLIENT_KEY = 'watercooler.client';
  function clientId() {
    var id = storageGet(CLIENT_KEY, '');
    if (Stream.isClientId(id)) return id;
    var bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(bytes);
    } else {
      for (var i = 0; i < bytes.length; ++i) bytes[i] = Math.floor(Math.random() * 256);
    }
    id = btoa(String.fromCharCode.apply(null, bytes))
      .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    storageSet(CLIENT_KEY, id);
    return storageGet(CLIENT_KEY, id); // another tab may have written its own first
  }
  var client = clientId();
  var tellWho = function () {};

  // One stream for all tabs of this node where SharedWorker exists; else one per tab.
  function connect() {
    if (typeof SharedWorker === 'function') {
      try {
        var worker = new SharedWorker('/stream_worker.js', { name: 'watercooler' });
        worker.port.onmessage = function (event) { handle(event.data); };
        worker.port.start();
        tellWho = function () {
          worker.port.postMessage({ type: 'who', client: client, name: nameInput.value });
        };
        tellWho();
        window.addEventListener('pagehide', function () {
          worker.port.postMessage({ type: 'bye' });
        });
        window.addEventListener('pageshow', function (event) {
          if (event.persisted) worker.port.postMessage({ type: 'back' });
        });
        return;
      } catch (e) { /* fall back below */ }
    }
    var stream = new Stream(Stream.listenUrl(client, nameInput.value), handle);
    var url = stream.url;
    tellWho = function () {
      var next = Stream.listenUrl(client, nameInput.value);
      if (next !== url) stream.reopen(url = next);
    };
    showState(stream.state);
    stream.start();
  }

  // The display name is remembered in this browser, and goes with the stream once typing
  // stopped (a new stream, within the node's grace period: an update of who is here).
  var NAME_KEY = 'watercooler.name';
  var nameTimer = null;
  function nameChanged() {
    clearTimeout(nameTimer);
    nameTimer = null;
    tellWho();
  }
  nameInput.value = storageGet(NAME_KEY, '');
  nameInput.addEventListener('input', function () {
    storageSet(NAME_KEY, nameInput.value);
    clearTimeout(nameTimer);
    nameTimer = setTimeout(nameChanged, 1000);
  });
  nameInput.addEventListener('change', nameChanged);
  // Another tab changed the name: show it here too, and give it to this tab's stream (a
  // no-op with a shared worker, which already has it).
  window.addEventListener('storage', function (event) {
    if (event.key !== NAME_KEY || document.activeElement === nameInput) return;
    nameInput.value = event.newValue || '';
    clearTimeout(nameTimer);
    nameTimer = setTimeout(nameChanged, 1000);
  });

  function showError(text) {
    errorLine.textContent = text;
  }

  if (window.fetch && window.URLSearchParams) {
    var sending = false;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      if (sending) return;
      sending = true;
      var body = new URLSearchParams();
      body.append('message', messageInput.value);
      body.append('name', nameInput.value);
      fetch('/publish', {
        method: 'POST',
        body: body,
        headers: { Accept: 'application/json' },
        credentials: 'same-origin'
      }).then(function (response) {
        if (!response.ok) {
          return response.text().then(function (reason) {
            showError(reason.trim() || 'refused (' + response.status + ')');
          });
        }
        showError('');
        messageInput.value = '';
        return response.json().then(function (answer) {
          if (answer && typeof answer.id === 'string') markOwn(answer.id);
        }, function () {});
      }).catch(function () {
        showError('The node is not reachable; your message was not sent.');
      }).then(function () {
        sending = false;
        form.dataset.answered = String(Number(form.dataset.answered || 0) + 1); // for tests
        messageInput.focus();
      });
    });
  }

  connect();
})();
