import { Body1, Button, Field, Input, makeStyles, Radio, RadioGroup, Spinner, Subtitle1, tokens } from "@fluentui/react-components";
import { useState, type FormEvent } from "react";
import { download } from "./api";
import { t } from "./i18n";

// The admin page's export of the compliance archive: a range of UTC days or
// one conversation, as a zip of EML messages or one JSON Lines file, which is
// what `multiline archive export` writes. The server streams it; the browser
// saves it under the name the server gives.

const useStyles = makeStyles({
  card: { backgroundColor: tokens.colorNeutralBackground1, borderRadius: tokens.borderRadiusLarge, padding: "16px", display: "flex", flexDirection: "column", gap: "12px", boxShadow: tokens.shadow2, minWidth: 0 },
  row: { display: "flex", gap: "12px", alignItems: "flex-end", flexWrap: "wrap" },
  muted: { color: tokens.colorNeutralForeground2 },
});

/** utcToday is today's date in UTC, YYYY-MM-DD, the export's default day. */
export function utcToday(now = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/** exportQuery is the export API's query for what the form asks. */
export function exportQuery(what: "days" | "thread", from: string, to: string, thread: string, format: string): string {
  const p = new URLSearchParams({ format });
  if (what === "thread") p.set("thread", thread.trim());
  else {
    p.set("from", from);
    if (to) p.set("to", to);
  }
  return p.toString();
}

/** sizeText says how big a file is: 812 B, 14 KB, 3.2 MB. */
export function sizeText(n: number): string {
  if (n < 1024) return n + " B";
  if (n < 1024 * 1024) return Math.round(n / 1024) + " KB";
  return (n / 1024 / 1024).toFixed(1) + " MB";
}

/** ExportSection exports the archive; errors go to onError (the page's banner). */
export function ExportSection({ onError }: { onError: (msg: string) => void }) {
  const s = useStyles();
  const today = utcToday();
  const [what, setWhat] = useState<"days" | "thread">("days");
  const [from, setFrom] = useState(today);
  const [to, setTo] = useState(today);
  const [thread, setThread] = useState("");
  const [format, setFormat] = useState("eml");
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState("");

  const run = async (e: FormEvent) => {
    e.preventDefault();
    setDone("");
    if (what === "thread" && !thread.trim()) {
      onError(t("ex_needThread"));
      return;
    }
    setBusy(true);
    try {
      const f = await download("/admin/archive/export?" + exportQuery(what, from, to, thread, format));
      setDone(t("ex_done", { name: f.name, size: sizeText(f.size) }));
      onError("");
    } catch (err) {
      onError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className={s.card} id="export-section" aria-labelledby="export-h">
      <Subtitle1 as="h2" id="export-h">
        {t("ex_title")}
      </Subtitle1>
      <Body1 className={s.muted}>{t("ex_help")}</Body1>
      <form className={s.row} onSubmit={run} id="export-form">
        <Field label={t("ex_what")}>
          <RadioGroup id="ex-what" layout="horizontal" value={what} onChange={(_, d) => setWhat(d.value as "days" | "thread")}>
            <Radio value="days" label={t("ex_days")} />
            <Radio value="thread" label={t("ex_thread")} />
          </RadioGroup>
        </Field>
        {what === "days" ? (
          <>
            <Field label={t("ex_from")}>
              <Input type="date" id="ex-from" required value={from} onChange={(_, d) => setFrom(d.value)} />
            </Field>
            <Field label={t("ex_to")}>
              <Input type="date" id="ex-to" value={to} onChange={(_, d) => setTo(d.value)} />
            </Field>
          </>
        ) : (
          <Field label={t("ex_threadId")} hint={t("ex_threadHint")}>
            <Input id="ex-thread" value={thread} onChange={(_, d) => setThread(d.value)} />
          </Field>
        )}
        <Field label={t("ex_format")}>
          <RadioGroup id="ex-format" value={format} onChange={(_, d) => setFormat(d.value)}>
            <Radio value="eml" label={t("ex_eml")} />
            <Radio value="jsonl" label={t("ex_jsonl")} />
          </RadioGroup>
        </Field>
        <Button type="submit" appearance="primary" data-testid="export" disabled={busy} icon={busy ? <Spinner size="tiny" /> : undefined}>
          {busy ? t("ex_busy") : t("ex_button")}
        </Button>
      </form>
      {done ? (
        <Body1 id="export-done" role="status">
          {done}
        </Body1>
      ) : null}
    </section>
  );
}
