// Parses every card given on stdin ({"name": card, ...}) with the adaptivecards
// library, targeting schema 1.5, and prints {"name": [problems...]} on stdout.
const path = require("path");
const root = process.argv[2];
const AC = require(path.join(root, "node_modules/adaptivecards/dist/adaptivecards.js"));
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const cards = JSON.parse(input);
  const out = {};
  for (const [name, json] of Object.entries(cards)) {
    const problems = [];
    const ctx = new AC.SerializationContext(AC.Versions.v1_5);
    const card = new AC.AdaptiveCard();
    card.parse(json, ctx);
    for (let i = 0; i < ctx.eventCount; i++) {
      const e = ctx.getEventAt(i);
      problems.push("parse: " + e.message);
    }
    for (const e of card.validateProperties().validationEvents) {
      problems.push("validate: " + e.message);
    }
    out[name] = problems;
  }
  process.stdout.write(JSON.stringify(out));
});
