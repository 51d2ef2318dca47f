// Shows every message of the cluster, newest first, as plain text: never parsed as HTML.
(function () {
  'use strict';

  var messages = document.getElementById('messages');

  function displayUpdate(update) {
    var line = document.createElement('li');
    line.textContent = update.data;
    messages.insertBefore(line, messages.firstChild);
  }

  var source = new EventSource('/listen');
  source.onmessage = displayUpdate;
})();
