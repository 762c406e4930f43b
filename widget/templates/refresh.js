// Re-fetch this page every data-refresh seconds and swap #w in place (no flash; the old
// content stays on any error), and post the content height and colour scheme to the embedding
// page (an iframe whose scheme differs from its host's gets an opaque backdrop), and to AMP.
(function(){
var d=document,w=window,h=d.documentElement;
function post(){
var e=d.getElementById("w");
if(!e||w.parent===w)return;
var px=Math.ceil(e.getBoundingClientRect().height);
try{
w.parent.postMessage({type:"iqd-rates:height",height:px,scheme:getComputedStyle(h).colorScheme},"*");
// AMP's <amp-iframe resizable> grows to this height when the reader interacts or it is off screen.
w.parent.postMessage({sentinel:"amp",type:"embed-size",height:px},"*")
}catch(x){}
}
function later(){setTimeout(load,Math.max(+h.getAttribute("data-refresh")||60,10)*1e3)}
function load(){
if(d.hidden||!w.fetch||!w.DOMParser)return later();
fetch(location.href,{cache:"no-cache",credentials:"same-origin"}).then(function(r){
if(!r.ok)throw r.status;
return r.text();
}).then(function(t){
var n=new DOMParser().parseFromString(t,"text/html"),b=n.getElementById("w"),o=d.getElementById("w"),s=n.documentElement.getAttribute("data-refresh");
if(s)h.setAttribute("data-refresh",s);
if(b&&o&&b.innerHTML!==o.innerHTML){o.parentNode.replaceChild(d.importNode(b,true),o);post()}
}).catch(function(){}).then(later);
}
w.addEventListener("load",post);
w.addEventListener("resize",post);
if(w.ResizeObserver)new ResizeObserver(post).observe(d.body);
post();
later();
})();
