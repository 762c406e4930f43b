// The npm `open-exchange-rates` client with `money`, as its README uses them, pointed at
// our service: node oxr_convert.js API_URL DAY  (API_URL ends in /api/).
// Prints one JSON line: the conversions money.js computes client-side from latest.json
// and from historical/DAY.json.
'use strict';
const http = require('http');
const https = require('https');
// The client's `request` 1.x fires its callback twice over Node's keep-alive agents (the
// default since Node 19): plain agents, as the Node of its day had.
http.globalAgent = new http.Agent({ keepAlive: false });
https.globalAgent = new https.Agent({ keepAlive: false });

const fx = require('money');
const oxr = require('open-exchange-rates');

const [apiUrl, day] = process.argv.slice(2);
oxr.api_url = apiUrl;
oxr.set({ app_id: 'not-needed' });

function fail(what, error) {
  console.error(`${what}: ${error}`);
  process.exit(1);
}

function once(callback) {
  let called = false;
  return (...args) => {
    if (!called) {
      called = true;
      callback(...args);
    }
  };
}

function conversions() {
  fx.rates = oxr.rates;
  fx.base = oxr.base;
  return {
    base: oxr.base,
    timestamp: oxr.timestamp,
    usd_iqd: fx(1).from('USD').to('IQD'),
    iqd_eur: fx(1).from('IQD').to('EUR'),
    sar_kwd: fx(1).from('SAR').to('KWD'),
  };
}

oxr.latest(once((error) => {
  if (error) fail('latest.json', error);
  const latest = conversions();
  oxr.historical(day, once((pastError) => {
    if (pastError) fail(`historical/${day}.json`, pastError);
    const past = conversions();
    console.log(JSON.stringify({ latest, past }));
  }));
}));
