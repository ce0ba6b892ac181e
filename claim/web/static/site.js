// frontdesk customers' web: the show-password switch. Served from this site
// (the CSP allows no inline script); every page works without it.
(function () {
  'use strict';
  var forms = document.querySelectorAll('form');
  for (var i = 0; i < forms.length; i++) {
    var inputs = forms[i].querySelectorAll('input[type=password]');
    if (inputs.length > 0) {
      addSwitch(forms[i], inputs);
    }
  }

  // addSwitch puts a "Show password" checkbox after the form's last
  // password field. A checkbox says its state to screen readers by itself;
  // it shows every password field of the form, so the two boxes of a new
  // password can be compared.
  function addSwitch(form, inputs) {
    var last = inputs[inputs.length - 1];
    var field = last.closest('.field') || last;
    var wrap = document.createElement('div');
    wrap.className = 'field reveal';
    var label = document.createElement('label');
    var box = document.createElement('input');
    box.type = 'checkbox';
    box.id = 'show-password';
    label.htmlFor = box.id;
    label.appendChild(box);
    label.appendChild(document.createTextNode(inputs.length > 1 ? ' Show passwords' : ' Show password'));
    wrap.appendChild(label);
    field.parentNode.insertBefore(wrap, field.nextSibling);
    box.addEventListener('change', function () {
      for (var j = 0; j < inputs.length; j++) {
        inputs[j].type = box.checked ? 'text' : 'password';
      }
    });
    // Sent as password fields whatever is showing, so the browser and a
    // password manager treat them as passwords.
    form.addEventListener('submit', function () {
      for (var j = 0; j < inputs.length; j++) {
        inputs[j].type = 'password';
      }
    });
  }
})();
