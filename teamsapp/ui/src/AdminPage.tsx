import {
  Body1,
  Button,
  Caption1,
  Field,
  Input,
  makeStyles,
  Select,
  Spinner,
  Subtitle1,
  Switch,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Textarea,
  tokens,
} from "@fluentui/react-components";
import { useEffect, useState, type FormEvent } from "react";
import { api, ApiError, signIn } from "./api";
import { LexiconSection } from "./LexiconSection";
import { AuditSection } from "./AuditSection";
import { ExportSection } from "./ExportSection";
import { JournalSection } from "./JournalSection";
import { StaffPage } from "./StaffPage";

// The admin page: company policy, languages and notice texts, which employees may
// use WeChat, the lexicon rules (LexiconSection), the jobs that failed for good, the
// audit log (AuditSection), and the archive's journaling (JournalSection) and export
// (ExportSection). English, as before: admins configure texts in both languages here;
// the journaling and export sections take their strings from i18n.ts.

interface Policy {
  sends_per_window: number;
  window_hours: number;
  reminder_after_hours: number;
  employee_limit: number;
  queue_limit: number;
  reserve: number;
  max_participants: number;
  consumer_language: string;
  retention_days: number;
}
interface Notice {
  kind: string;
  for_consumer: boolean;
  defaults: Record<string, string>;
}
interface Settings {
  policy: Policy;
  overrides: Record<string, Record<string, string>>;
  language: string;
  defaults: Policy;
  notices: Notice[];
  languages: string[];
}
interface Employee {
  id: string;
  name: string;
  enabled: boolean;
  installed: boolean;
  blocked: boolean;
  blocked_reason?: string;
}
interface Job {
  id: number;
  kind: string;
  lane: string;
  attempts: number;
  created: string;
  age_seconds: number;
  last_error?: string;
}
interface Person {
  aad_object_id: string;
  name: string;
  mail?: string;
  upn?: string;
}

export const FIELDS: [keyof Policy, string][] = [
  ["sends_per_window", "Messages per consumer message (WeChat: at most 5)"],
  ["window_hours", "Window in hours (WeChat: at most 48)"],
  ["reminder_after_hours", "Reminder after hours"],
  ["employee_limit", "Consecutive employee messages before queueing"],
  ["queue_limit", "Queued messages per thread"],
  ["reserve", "Sends kept for mandatory notices"],
  ["max_participants", "Employees per thread"],
  ["retention_days", "Keep records for days (0: for ever; SEC 17a-4 asks for 3 years, 1095)"],
];

/** age says how long ago, roughly: 45 s, 12 min, 5 h, 3 d. */
export function age(s: number): string {
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min";
  if (s < 86400) return Math.floor(s / 3600) + " h";
  return Math.floor(s / 86400) + " d";
}

const useStyles = makeStyles({
  card: { backgroundColor: tokens.colorNeutralBackground1, borderRadius: tokens.borderRadiusLarge, padding: "16px", display: "flex", flexDirection: "column", gap: "12px", boxShadow: tokens.shadow2, minWidth: 0 },
  grid: { display: "grid", gridTemplateColumns: "repeat(auto-fill, minmax(min(240px, 100%), 1fr))", gap: "12px" },
  select: { minWidth: 0, maxWidth: "100%" },
  kind: { display: "flex", flexDirection: "column", gap: "2px", minWidth: 0 },
  muted: { color: tokens.colorNeutralForeground2 },
  notices: { display: "flex", flexDirection: "column", gap: "12px" },
  notice: { display: "grid", gridTemplateColumns: "repeat(auto-fit, minmax(min(260px, 100%), 1fr))", gap: "8px", borderTop: `1px solid ${tokens.colorNeutralStroke2}`, paddingTop: "8px" },
  row: { display: "flex", gap: "8px", alignItems: "flex-end", flexWrap: "wrap" },
  tableWrap: { overflowX: "auto" },
  error: { color: tokens.colorPaletteRedForeground1, overflowWrap: "anywhere" },
  code: { fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase200, overflowWrap: "anywhere" },
});

export function Admin() {
  const s = useStyles();
  const [settings, setSettings] = useState<Settings | null>(null);
  const [form, setForm] = useState<Record<string, string>>({});
  const [overrides, setOverrides] = useState<Record<string, Record<string, string>>>({});
  const [employees, setEmployees] = useState<Employee[]>([]);
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [jobsOff, setJobsOff] = useState("");
  const [people, setPeople] = useState<Person[]>([]);
  const [q, setQ] = useState("");
  const [banner, setBanner] = useState("");
  const [saved, setSaved] = useState(false);

  const show = (st: Settings) => {
    setSettings(st);
    const f: Record<string, string> = {};
    for (const [k] of FIELDS) f[k] = String(st.policy[k]);
    f.consumer_language = st.policy.consumer_language || "auto";
    f.language = st.language || "en";
    setForm(f);
    setOverrides(st.overrides || {});
  };
  const loadEmployees = async () => setEmployees(await api<Employee[]>("GET", "/admin/employees"));
  const loadJobs = async () => {
    try {
      setJobs(await api<Job[]>("GET", "/admin/jobs?dead=true"));
    } catch (e) {
      if (e instanceof ApiError && e.status === 501) setJobsOff(e.message);
      else throw e;
    }
  };
  useEffect(() => {
    (async () => {
      try {
        await signIn();
        show(await api<Settings>("GET", "/admin/policy"));
        await loadEmployees();
        await loadJobs();
      } catch (e) {
        setBanner((e as Error).message);
      }
    })();
  }, []);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    const policy: Record<string, number | string> = {};
    for (const [k] of FIELDS) policy[k] = Number(form[k]);
    policy.consumer_language = form.consumer_language;
    const ov: Record<string, Record<string, string>> = {};
    for (const [kind, byLang] of Object.entries(overrides)) {
      for (const [l, text] of Object.entries(byLang)) if (text.trim()) (ov[kind] ||= {})[l] = text;
    }
    try {
      show(await api<Settings>("PUT", "/admin/policy", { policy, overrides: ov, language: form.language }));
      setBanner("");
      setSaved(true);
      setTimeout(() => setSaved(false), 3000);
    } catch (err) {
      setBanner((err as Error).message);
    }
  };
  const setEnabled = async (id: string, enabled: boolean) => {
    try {
      const e = await api<Employee>("PUT", "/admin/employees/" + encodeURIComponent(id), { enabled });
      setEmployees((es) => es.map((x) => (x.id === id ? e : x)));
      setBanner("");
    } catch (err) {
      setBanner((err as Error).message);
    }
  };
  const search = async (e: FormEvent) => {
    e.preventDefault();
    try {
      setPeople(await api<Person[]>("GET", "/admin/directory?q=" + encodeURIComponent(q)));
      setBanner("");
    } catch (err) {
      setBanner((err as Error).message);
    }
  };
  const addPerson = async (p: Person) => {
    try {
      await api("POST", "/admin/employees", { aad_object_id: p.aad_object_id, name: p.name, upn: p.upn });
      setPeople([]);
      await loadEmployees();
    } catch (err) {
      setBanner((err as Error).message);
    }
  };
  const jobAction = async (id: number, action: "retry" | "discard") => {
    try {
      await api("POST", "/admin/jobs/" + id + "/" + action);
      setBanner("");
      await loadJobs();
    } catch (err) {
      setBanner((err as Error).message);
    }
  };

  return (
    <StaffPage title="MultiLine admin" banner={banner}>
        {!settings ? (
          banner ? null : <Spinner label="Loading…" />
        ) : (
          <form className={s.card} onSubmit={save} id="policy-form" aria-labelledby="policy-h">
            <Subtitle1 as="h2" id="policy-h">
              Policy
            </Subtitle1>
            <Body1 className={s.muted}>WeChat allows 5 messages within 48 hours after each consumer message. These numbers must stay within that.</Body1>
            <div className={s.grid}>
              {FIELDS.map(([k, label]) => (
                <Field key={k} label={label} hint={"default " + settings.defaults[k]}>
                  <Input type="number" id={"p-" + k} step={k.endsWith("hours") ? "any" : "1"} value={form[k] ?? ""} onChange={(_, d) => setForm({ ...form, [k]: d.value })} />
                </Field>
              ))}
              <Field label="Language of consumers' notices">
                <Select id="p-consumer_language" className={s.select} value={form.consumer_language} onChange={(_, d) => setForm({ ...form, consumer_language: d.value })}>
                  <option value="auto">Automatic: WeChat's, else the default</option>
                  <option value="en">English</option>
                  <option value="zh-CN">简体中文 (Simplified Chinese)</option>
                </Select>
              </Field>
              <Field label="Company's default language">
                <Select id="p-language" className={s.select} value={form.language} onChange={(_, d) => setForm({ ...form, language: d.value })}>
                  <option value="en">English</option>
                  <option value="zh-CN">简体中文 (Simplified Chinese)</option>
                </Select>
              </Field>
            </div>
            <Subtitle1 as="h2">Automatic messages</Subtitle1>
            <Body1 className={s.muted}>Leave a text empty to use the default shown beneath it. Keep placeholders such as {"{employee}"}.</Body1>
            <div className={s.notices} id="notices">
              {settings.notices.map((n) => (
                <div key={n.kind} className={s.notice}>
                  <div className={s.kind}>
                    <code className={s.code}>{n.kind}</code>
                    <Caption1 className={s.muted}>
                      {n.for_consumer ? "to the consumer (counts as a send)" : "to employees"}
                    </Caption1>
                  </div>
                  {settings.languages.map((l) => (
                    <Field key={l} label={l} hint={n.defaults[l]}>
                      <Textarea
                        data-kind={n.kind}
                        data-lang={l}
                        value={overrides[n.kind]?.[l] || ""}
                        onChange={(_, d) => setOverrides({ ...overrides, [n.kind]: { ...(overrides[n.kind] || {}), [l]: d.value } })}
                      />
                    </Field>
                  ))}
                </div>
              ))}
            </div>
            <div className={s.row}>
              <Button type="submit" appearance="primary" data-testid="save-policy">
                Save policy
              </Button>
              {saved ? (
                <Body1 id="saved" role="status">
                  Saved.
                </Body1>
              ) : null}
            </div>
          </form>
        )}
        <section className={s.card} aria-labelledby="employees-h">
          <Subtitle1 as="h2" id="employees-h">
            Employees
          </Subtitle1>
          <form className={s.row} onSubmit={search} id="directory-form">
            <Field label="Add a person from your organization">
              <Input id="directory-q" value={q} minLength={2} placeholder="Name or email" onChange={(_, d) => setQ(d.value)} />
            </Field>
            <Button type="submit">Search</Button>
          </form>
          {people.length ? (
            <ul id="directory">
              {people.map((p) => (
                <li key={p.aad_object_id}>
                  {p.name}
                  {p.mail ? " <" + p.mail + ">" : ""}{" "}
                  <Button size="small" onClick={() => addPerson(p)}>
                    Add and enable
                  </Button>
                </li>
              ))}
            </ul>
          ) : null}
          <div className={s.tableWrap}>
            <Table id="employees" size="small" aria-label="Employees">
              <TableHeader>
                <TableRow>
                  <TableHeaderCell>Name</TableHeaderCell>
                  <TableHeaderCell>WeChat enabled</TableHeaderCell>
                  <TableHeaderCell>App installed</TableHeaderCell>
                  <TableHeaderCell>Teams delivery</TableHeaderCell>
                </TableRow>
              </TableHeader>
              <TableBody>
                {employees.map((e) => (
                  <TableRow key={e.id} data-employee={e.id}>
                    <TableCell>{e.name || e.id}</TableCell>
                    <TableCell>
                      <Switch checked={e.enabled} onChange={(_, d) => setEnabled(e.id, d.checked)} aria-label={"WeChat enabled for " + e.name} />
                    </TableCell>
                    <TableCell>{e.installed ? "yes" : "no"}</TableCell>
                    <TableCell>{e.blocked ? "blocked" + (e.blocked_reason ? ": " + e.blocked_reason : "") : "ok"}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </div>
        </section>
        {settings ? <LexiconSection onError={setBanner} /> : null}
        <section className={s.card} id="jobs-section" aria-labelledby="jobs-h">
          <Subtitle1 as="h2" id="jobs-h">
            Failed jobs
          </Subtitle1>
          <Body1 className={s.muted}>Work that failed for good and was set aside, such as a send WeChat refused or a card Teams would not take. Retry puts it back in line; Discard drops it.</Body1>
          {jobsOff ? (
            <Body1 id="jobs-off" className={s.muted}>
              {jobsOff}
            </Body1>
          ) : jobs && !jobs.length ? (
            <Body1 id="jobs-none" className={s.muted}>
              No failed jobs.
            </Body1>
          ) : jobs ? (
            <div className={s.tableWrap}>
              <Table id="jobs" size="small" aria-label="Failed jobs">
                <TableHeader>
                  <TableRow>
                    <TableHeaderCell>Kind</TableHeaderCell>
                    <TableHeaderCell>Lane</TableHeaderCell>
                    <TableHeaderCell>Attempts</TableHeaderCell>
                    <TableHeaderCell>Age</TableHeaderCell>
                    <TableHeaderCell>Last error</TableHeaderCell>
                    <TableHeaderCell>Actions</TableHeaderCell>
                  </TableRow>
                </TableHeader>
                <TableBody>
                  {jobs.map((j) => (
                    <TableRow key={j.id} data-job={j.id}>
                      <TableCell>
                        <code className={s.code}>{j.kind}</code>
                      </TableCell>
                      <TableCell>
                        <code className={s.code}>{j.lane}</code>
                      </TableCell>
                      <TableCell>{j.attempts}</TableCell>
                      <TableCell title={j.created}>{age(j.age_seconds)}</TableCell>
                      <TableCell className={s.error}>{j.last_error || ""}</TableCell>
                      <TableCell>
                        <div className={s.row}>
                          <Button size="small" className="retry" onClick={() => jobAction(j.id, "retry")}>
                            Retry
                          </Button>
                          <Button size="small" className="discard" onClick={() => jobAction(j.id, "discard")}>
                            Discard
                          </Button>
                        </div>
                      </TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            </div>
          ) : (
            <Spinner size="tiny" />
          )}
        </section>
        {settings ? <AuditSection /> : null}
        {settings ? <JournalSection /> : null}
        {settings ? <ExportSection onError={setBanner} /> : null}
    </StaffPage>
  );
}
