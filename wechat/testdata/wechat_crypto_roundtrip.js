// Round trip with the independent npm implementation `wechat-crypto`.
// Usage: node wechat_crypto_roundtrip.js <node_modules dir> <json request on stdin>
// Request: {token, aesKey, receiveId, timestamp, nonce, plaintext, ours: {encrypt, signature}}
// Answer:  {encrypt, signature}            (wechat-crypto sealing `plaintext`)
//          {oursSignature, oursMessage, oursId} (wechat-crypto opening what Go sealed)
const path = require('path');
const WXBizMsgCrypt = require(path.join(process.argv[2], 'wechat-crypto'));
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const req = JSON.parse(input);
  const c = new WXBizMsgCrypt(req.token, req.aesKey, req.receiveId);
  const encrypt = c.encrypt(req.plaintext);
  const out = { encrypt, signature: c.getSignature(req.timestamp, req.nonce, encrypt) };
  if (req.ours) {
    out.oursSignature = c.getSignature(req.timestamp, req.nonce, req.ours.encrypt);
    const opened = c.decrypt(req.ours.encrypt);
    out.oursMessage = opened.message;
    out.oursId = opened.id;
  }
  process.stdout.write(JSON.stringify(out));
});
