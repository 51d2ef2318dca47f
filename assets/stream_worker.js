// A SharedWorker: the tabs of one node share its single event stream, so a browser's limit of
// six connections per host never holds back a seventh tab. The stream carries the browser's
// id and display name, which only the tabs can read (a worker has no localStorage): it opens
// when the first tab says who the browser is.
importScripts('/stream_core.js');

var ports = [];
var who = null; // {client, name} the stream was opened with

var stream = new self.WatercoolerStream('/listen?format=json', function (event) {
  ports.forEach(function (port) { port.postMessage(event); });
});

function hello(port) {
  if (ports.indexOf(port) < 0) ports.push(port);
  port.postMessage({
    type: 'hello',
    state: stream.state,
    messages: stream.recent.slice(),
    presence: stream.presence
  });
}

// The first tab's id is the browser's (tabs only differ when storage is disabled); a new name
// from any tab reopens the stream with it.
function tellWho(data) {
  var client = self.WatercoolerStream.isClientId(data.client) ? data.client : null;
  var name = self.WatercoolerStream.cleanName(data.name);
  if (who && name === who.name && (who.client || !client)) return;
  who = { client: (who && who.client) || client, name: name };
  stream.reopen(self.WatercoolerStream.listenUrl(who.client, who.name));
}

// A tab that never says who it is (an old page from the cache): listen anonymously.
var anonymousTimer = setTimeout(function () {
  if (!stream.started()) stream.start();
}, 3000);

// A port has no close event: a tab says 'bye' when it goes, and 'back' if the browser's
// back/forward cache brings it back.
self.onconnect = function (event) {
  var port = event.ports[0];
  port.onmessage = function (message) {
    var type = message.data && message.data.type;
    if (type === 'bye') ports = ports.filter(function (p) { return p !== port; });
    if (type === 'back') hello(port);
    if (type === 'who') {
      clearTimeout(anonymousTimer);
      tellWho(message.data);
    }
  };
  port.start();
  hello(port);
};
