/* IQD rates embed loader, one line per widget:
   <script src="…/widget.js" data-symbols="USD,EUR" data-theme="dark" data-digits="latn" data-lang="en" data-trend="1" async></script>
   It reserves the widget's height (from the table below, which the service fills in) before
   the frame loads, so the host page never shifts, and never holds the host's load event for
   long when the service hangs. */
(function () {
  "use strict";
  try {
    var T = /*TABLE*/ null;
    var doc = document;
    var win = window;
    var mark = "data-iqd-rates";
    var isLoader = /\/widget\.js(?:[?#]|$)/;
    var script = doc.currentScript;
    if (!script || !isLoader.test(script.src) || script.hasAttribute(mark)) {
      // Fallback (no currentScript): the last loader script not processed yet.
      script = null;
      var all = doc.getElementsByTagName("script");
      for (var i = all.length - 1; i >= 0; i--) {
        if (isLoader.test(all[i].src) && !all[i].hasAttribute(mark)) {
          script = all[i];
          break;
        }
      }
    }
    if (!T || !script || !script.parentNode) return;
    script.setAttribute(mark, "");

    var attr = function (name) {
      return (script.getAttribute("data-" + name) || "").replace(/\s+/g, "");
    };
    // XAU asks for the gold table, which is not a row of the currencies.
    var known = Object.keys(T.codes).concat(T.gold && !T.codes.hasOwnProperty("XAU") ? ["XAU"] : []);
    var asked = attr("symbols").toUpperCase().split(",").filter(Boolean);
    var unknown = asked.filter(function (c) { return known.indexOf(c) < 0; });
    if (unknown.length && win.console) {
      console.error("IQD rates widget: unknown currency code " + unknown.join(", ") + " in data-symbols; this service shows " + known.join(", ") + ".");
    }
    var codes = asked.length ? known.filter(function (c) { return asked.indexOf(c) >= 0; }) : known;
    if (!codes.length) return;

    var query = [];
    if (asked.length) query.push("symbols=" + codes.join(","));
    ["theme", "digits", "lang", "trend"].forEach(function (name) {
      var value = attr(name);
      if (value) query.push(name + "=" + encodeURIComponent(value));
    });
    var lang = T.titles.hasOwnProperty(attr("lang")) ? attr("lang") : T.lang;
    var origin = new URL(script.src).origin;
    // …/widget.js -> …/widget, on the loader's own origin (a path prefix is kept).
    var src = script.src.replace(/\.js(?:[?#].*)?$/, "") + (query.length ? "?" + query.join("&") : "");

    // The height the widget will have at this width: the stylesheet fixes every box's height.
    function reserved(width) {
      var lay = T.layouts[0];
      T.layouts.forEach(function (l) { if (l[0] <= width) lay = l; });
      var base = lay[1], row = lay[2], note = lay[3], lines = lay[4];
      var sourced = 0, held = 0, reasons = {}, height = base;
      if (!asked.length || asked.indexOf("XAU") >= 0) height += lay[8];
      codes.forEach(function (c) {
        var f = T.codes[c];
        if (!f) return;
        height += row + note * f[0];
        sourced |= f[1];
        if (f[2]) reasons[f[2]] = 1;
        held |= f[3];
      });
      lines += sourced * lay[5] + Object.keys(reasons).length + held;
      return height + lay[6] * lines;
    }

    var box = doc.createElement("div");
    box.style.cssText = "display:block;width:100%;overflow:hidden;margin:0;padding:0";
    script.parentNode.insertBefore(box, script.nextSibling);
    var posted = false, folded = false;
    var fit = function () {
      if (!posted && !folded) box.style.height = reserved(box.clientWidth) + "px";
    };
    fit();
    if (win.ResizeObserver) new ResizeObserver(fit).observe(box);

    var frame = null;
    function insert() {
      frame = doc.createElement("iframe");
      frame.src = src;
      frame.title = T.titles[lang];
      frame.lang = lang;
      frame.setAttribute("loading", "lazy");
      frame.setAttribute("scrolling", "no");
      frame.setAttribute("frameborder", "0");
      frame.setAttribute("sandbox", "allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox");
      // Hidden (not display:none, so lazy loading still loads it) until the widget reports
      // itself: an error page never shows.
      frame.style.cssText = "display:block;width:100%;height:100%;border:0;visibility:hidden";
      frame.addEventListener("load", function () {
        setTimeout(function () {
          if (posted) return;
          folded = true; // the service answered, but not with the widget
          box.style.height = "0";
        }, 2000);
      });
      box.appendChild(frame);
    }
    insert();
    // A service that accepts the connection and never answers would hold the host's load
    // event: let go after a few seconds and try once more after the page has loaded.
    setTimeout(function () {
      if (posted || doc.readyState === "complete") return;
      box.removeChild(frame);
      win.addEventListener("load", insert);
    }, 3000);

    win.addEventListener("message", function (event) {
      try {
        if (event.origin !== origin || !frame || event.source !== frame.contentWindow) return;
        var data = event.data;
        if (!data || data.type !== "iqd-rates:height") return;
        var height = Math.ceil(+data.height);
        if (!(height > 0 && height < 20000)) return;
        posted = true;
        box.style.height = height + "px";
        // Match the widget's scheme, or the browser paints an opaque backdrop at its corners.
        if (data.scheme === "dark" || data.scheme === "light") frame.style.colorScheme = data.scheme;
        frame.style.visibility = "visible";
      } catch (ignored) {}
    });
  } catch (ignored) {}
})();
