// A "Print" button on pages that can be printed (the enrollment confirmation): hidden until
// this script runs, since without JavaScript the browser's own menu prints the page.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button.print-page");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function () { window.print(); });
  }
})();
