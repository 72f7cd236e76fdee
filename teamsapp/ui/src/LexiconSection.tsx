import {
  Body1,
  Button,
  Field,
  Input,
  makeStyles,
  Select,
  Subtitle1,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  tokens,
} from "@fluentui/react-components";
import { useEffect, useState, type FormEvent } from "react";
import { api } from "./api";

// The admin page's Lexicon section: the company's lexicon (DLP) rules, as
// `multiline admin lexicon` manages them. Rules apply to the next message at
// once; the test box shows what a text would become before a rule is saved.

export interface LexiconRule {
  name: string;
  pattern: string;
  direction: string;
  action: string;
  enabled: boolean;
}
interface Decision {
  action: string;
  result: string;
  rules: string[];
  summary: string;
}

const useStyles = makeStyles({
  card: { backgroundColor: tokens.colorNeutralBackground1, borderRadius: tokens.borderRadiusLarge, padding: "16px", display: "flex", flexDirection: "column", gap: "12px", boxShadow: tokens.shadow2, minWidth: 0 },
  row: { display: "flex", gap: "8px", alignItems: "flex-end", flexWrap: "wrap" },
  muted: { color: tokens.colorNeutralForeground2 },
  tableWrap: { overflowX: "auto" },
  code: { fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase200, overflowWrap: "anywhere" },
});

const empty = { name: "", pattern: "", direction: "both", action: "block" };

/** LexiconSection lists, adds, removes and tests rules; errors go to onError
 * (the page's banner), "" clears it. */
export function LexiconSection({ onError }: { onError: (msg: string) => void }) {
  const s = useStyles();
  const [rules, setRules] = useState<LexiconRule[] | null>(null);
  const [form, setForm] = useState(empty);
  const [sample, setSample] = useState("");
  const [tested, setTested] = useState<{ outbound: Decision; inbound: Decision } | null>(null);

  const run = async (fn: () => Promise<void>) => {
    try {
      await fn();
      onError("");
    } catch (e) {
      onError((e as Error).message);
    }
  };
  useEffect(() => {
    run(async () => setRules(await api<LexiconRule[]>("GET", "/admin/lexicon")));
  }, []);

  const add = (e: FormEvent) => {
    e.preventDefault();
    run(async () => {
      setRules(await api<LexiconRule[]>("POST", "/admin/lexicon", form));
      setForm(empty);
    });
  };
  const remove = (name: string) => run(async () => setRules(await api<LexiconRule[]>("DELETE", "/admin/lexicon/" + encodeURIComponent(name))));
  const test = (e: FormEvent) => {
    e.preventDefault();
    const rule = form.pattern ? form : undefined; // the rule being written, before it is saved
    run(async () => setTested(await api("POST", "/admin/lexicon/test", { text: sample, rule })));
  };

  return (
    <section className={s.card} id="lexicon-section" aria-labelledby="lexicon-h">
      <Subtitle1 as="h2" id="lexicon-h">
        Lexicon
      </Subtitle1>
      <Body1 className={s.muted}>
        Rules are regular expressions (RE2 syntax; start with (?i) to ignore case). Block stops an employee's message (the consumer's is hidden from employees), redact replaces matches with ***, flag records the
        message for review. Every decision is archived with the original. Changes apply to the next message.
      </Body1>
      <div className={s.tableWrap}>
        <Table id="lexicon-rules" size="small" aria-label="Lexicon rules">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Name</TableHeaderCell>
              <TableHeaderCell>Pattern</TableHeaderCell>
              <TableHeaderCell>Direction</TableHeaderCell>
              <TableHeaderCell>Action</TableHeaderCell>
              <TableHeaderCell>In force</TableHeaderCell>
              <TableHeaderCell>Remove</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {(rules || []).map((r) => (
              <TableRow key={r.name} data-rule={r.name}>
                <TableCell>{r.name}</TableCell>
                <TableCell>
                  <code className={s.code}>{r.pattern}</code>
                </TableCell>
                <TableCell>{r.direction}</TableCell>
                <TableCell>{r.action}</TableCell>
                <TableCell>{r.enabled ? "yes" : "no"}</TableCell>
                <TableCell>
                  <Button size="small" className="remove-rule" aria-label={"Remove rule " + r.name} onClick={() => remove(r.name)}>
                    Remove
                  </Button>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </div>
      {rules && !rules.length ? (
        <Body1 id="lexicon-none" className={s.muted}>
          No rules: every message is delivered as written.
        </Body1>
      ) : null}
      <form className={s.row} onSubmit={add} id="lexicon-form">
        <Field label="Name" required>
          <Input id="lx-name" value={form.name} onChange={(_, d) => setForm({ ...form, name: d.value })} />
        </Field>
        <Field label="Pattern (RE2)" required>
          <Input id="lx-pattern" value={form.pattern} onChange={(_, d) => setForm({ ...form, pattern: d.value })} />
        </Field>
        <Field label="Direction">
          <Select id="lx-direction" value={form.direction} onChange={(_, d) => setForm({ ...form, direction: d.value })}>
            <option value="both">Both</option>
            <option value="outbound">Outbound (employees' messages)</option>
            <option value="inbound">Inbound (consumers' messages)</option>
          </Select>
        </Field>
        <Field label="Action">
          <Select id="lx-action" value={form.action} onChange={(_, d) => setForm({ ...form, action: d.value })}>
            <option value="block">Block</option>
            <option value="redact">Redact</option>
            <option value="flag">Flag</option>
          </Select>
        </Field>
        <Button type="submit" appearance="primary" data-testid="add-rule">
          Add rule
        </Button>
      </form>
      <form className={s.row} onSubmit={test} id="lexicon-test-form">
        <Field label="Test a text (with the rule above, if it has a pattern)">
          <Input id="lx-sample" value={sample} onChange={(_, d) => setSample(d.value)} />
        </Field>
        <Button type="submit" data-testid="test-rule">
          Test
        </Button>
      </form>
      {tested ? (
        <div id="lexicon-tested" role="status">
          <ul>
            <li data-direction="outbound">{tested.outbound.summary}</li>
            <li data-direction="inbound">{tested.inbound.summary}</li>
          </ul>
        </div>
      ) : null}
    </section>
  );
}
