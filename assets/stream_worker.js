// A SharedWorker: the tabs of one node share its single event stream, so a browser's limit of
// six connections per host never holds back a seventh tab.
importScripts('/stream_core.js');

var ports = [];

var stream = new self.WatercoolerStream('/listen?format=json', function (event) {
  ports.forEach(function (port) { port.postMessage(event); });
});

function hello(port) {
  if (ports.indexOf(port) < 0) ports.push(port);
  port.postMessage({ type: 'hello', state: stream.state, messages: stream.recent.slice() });
}

// A port has no close event: a tab says 'bye' when it goes, and 'back' if the browser's
// back/forward cache brings it back.
self.onconnect = function (event) {
  var port = event.ports[0];
  port.onmessage = function (message) {
    var type = message.data && message.data.type;
    if (type === 'bye') ports = ports.filter(function (p) { return p !== port; });
    if (type === 'back') hello(port);
  };
  port.start();
  hello(port);
};

stream.start();
