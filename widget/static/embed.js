/* IQD rates embed loader, one line per widget:
   <script src="…/widget.js" data-symbols="USD,EUR" data-lang="ckb" data-theme="dark" data-digits="latn" async></script>
   It inserts an iframe right after the script, sized by the height the widget posts. */
(function () {
  "use strict";
  try {
    var doc = document;
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
    if (!script || !script.parentNode) return;
    script.setAttribute(mark, "");

    var origin = new URL(script.src).origin;
    var query = [];
    ["symbols", "lang", "theme", "digits"].forEach(function (name) {
      var value = script.getAttribute("data-" + name);
      if (value) query.push(name + "=" + encodeURIComponent(value.replace(/\s+/g, "")).replace(/%2C/gi, ","));
    });

    var frame = doc.createElement("iframe");
    // …/widget.js -> …/widget, on the loader's own origin (a path prefix is kept).
    frame.src = script.src.replace(/\.js(?:[?#].*)?$/, "") + (query.length ? "?" + query.join("&") : "");
    // Accessible name per language (widget/texts.py frame_title).
    var titles = {
      ar: "أسعار صرف العملات مقابل الدينار العراقي",
      ckb: "نرخی دراوەکان بە دیناری عێراقی",
      en: "Exchange rates in Iraqi dinars"
    };
    frame.title = titles[script.getAttribute("data-lang")] || titles.ar;
    frame.setAttribute("loading", "lazy");
    frame.setAttribute("scrolling", "no");
    frame.setAttribute("frameborder", "0");
    frame.setAttribute("sandbox", "allow-scripts allow-same-origin");
    // Hidden by visibility (display:none stops lazy loading) until the widget posts its
    // height, so a dead service leaves nothing.
    frame.style.cssText = "display:block;width:100%;height:0;border:0;visibility:hidden";

    window.addEventListener("message", function (event) {
      try {
        if (event.origin !== origin || event.source !== frame.contentWindow) return;
        var data = event.data;
        if (!data || data.type !== "iqd-rates:height") return;
        var height = Math.ceil(+data.height);
        if (!(height > 0 && height < 20000)) return;
        frame.style.height = height + "px";
        // Match the widget's scheme, or the browser paints an opaque backdrop at its corners.
        if (data.scheme === "dark" || data.scheme === "light") frame.style.colorScheme = data.scheme;
        frame.style.visibility = "visible";
      } catch (ignored) {}
    });

    script.parentNode.insertBefore(frame, script.nextSibling);
  } catch (ignored) {}
})();
