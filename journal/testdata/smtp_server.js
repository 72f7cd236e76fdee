// A real SMTP server (npm smtp-server) for journal's Go tests. It listens on
// 127.0.0.1 on a free port, requires AUTH PLAIN with the user and password
// given, refuses the first FAIL_FIRST messages with 451 (a temporary failure,
// as a busy archive answers), and prints one JSON line per event on stdout:
// {"port":N} when listening, {"rejected":MESSAGE_ID}, {"accepted":MESSAGE_ID,"size":N}.
// Usage: node smtp_server.js NODE_MODULES USER PASSWORD FAIL_FIRST
const path = require("path");
const [modules, user, pass, failFirst] = process.argv.slice(2);
const { SMTPServer } = require(path.join(modules, "smtp-server"));

let toFail = Number(failFirst || 0);
const say = (o) => process.stdout.write(JSON.stringify(o) + "\n");

const server = new SMTPServer({
  disabledCommands: ["STARTTLS"],
  allowInsecureAuth: true,
  authMethods: ["PLAIN"],
  logger: false,
  onAuth(auth, session, cb) {
    if (auth.username === user && auth.password === pass) return cb(null, { user });
    return cb(new Error("Invalid username or password"));
  },
  onData(stream, session, cb) {
    const chunks = [];
    stream.on("data", (c) => chunks.push(c));
    stream.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const m = /^Message-ID:\s*(<[^>]+>)/im.exec(raw);
      const id = m ? m[1] : "";
      if (toFail > 0) {
        toFail--;
        say({ rejected: id });
        const err = new Error("Try again later");
        err.responseCode = 451;
        return cb(err);
      }
      say({ accepted: id, size: raw.length, to: session.envelope.rcptTo.map((r) => r.address) });
      cb();
    });
  },
});
server.listen(0, "127.0.0.1", () => say({ port: server.server.address().port }));
process.stdin.on("end", () => server.close(() => process.exit(0)));
process.stdin.resume();
