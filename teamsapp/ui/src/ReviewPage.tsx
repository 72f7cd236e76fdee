import {
  Badge,
  Body1,
  Button,
  Caption1,
  Field,
  Input,
  Link,
  makeStyles,
  mergeClasses,
  Spinner,
  Subtitle1,
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
import { api, signIn } from "./api";
import { reviewFocus } from "./deeplink";
import { StaffPage } from "./StaffPage";

// The compliance review page: a reviewer searches every thread, reads a
// thread's archive record read-only (the record a regulator would be shown,
// with purged bodies marked), and works through the queue of messages a
// lexicon rule flagged, marking each reviewed with a comment. The server
// refuses everyone who is not a reviewer; nothing here can send. A compliance
// alert's deep link opens it on one message (?thread=…&message=…): the page
// opens that thread's record and marks the message there and in the queue.

export interface ReviewThread {
  id: string;
  consumer: string;
  consumer_name: string;
  employees: string[];
  first: string;
  last: string;
  events: number;
}
interface PartyJSON {
  role: string;
  id: string;
  name?: string;
  address?: string;
}
export interface ArchiveEvent {
  seq: number;
  time: string;
  kind: string;
  body: Record<string, unknown> | null;
}
interface FlaggedItem {
  thread: string;
  consumer_name: string;
  seq: number;
  at: string;
  decision: { message_id: string; direction: string; action: string; rules: string[]; original: string; result: string };
}

/** utc shows an RFC 3339 time as "2026-03-02 09:00:00" (UTC, as the archive keeps it). */
export function utc(iso: string): string {
  return iso.replace("T", " ").replace(/\.\d+/, "").replace("Z", "");
}

function who(p: unknown): string {
  const party = p as PartyJSON | undefined;
  return party ? party.name || party.address || party.id : "";
}

/** eventLine is what a reviewer reads of one archive event: who, and what. */
export function eventLine(e: ArchiveEvent): { who: string; what: string } {
  const b = e.body;
  if (!b) return { who: "", what: "(content removed by retention; its hash remains in the record)" };
  switch (e.kind) {
    case "message.in":
    case "message.out": {
      const shown = typeof b.shown === "string" ? ` (shown as: ${b.shown})` : "";
      const media = b.media_kind ? ` [${b.media_kind}${b.file_name ? ": " + b.file_name : ""}]` : "";
      return { who: who(b.author), what: String(b.text ?? "") + media + shown };
    }
    case "notice.consumer":
    case "notice.employees":
      return { who: "automatic", what: String(b.text ?? "") };
    case "participant.added":
    case "participant.removed":
    case "participant.left":
      return { who: who(b.by) || who(b.employee), what: `${e.kind.split(".")[1]}: ${who(b.employee)}` };
    case "status":
      return { who: "", what: `${b.message_id}: ${b.status}${b.detail ? " (" + b.detail + ")" : ""}` };
    case "lexicon":
      return { who: "lexicon", what: `${b.action} by ${(b.rules as string[] | undefined)?.join(", ") ?? ""}: ${b.original}` };
    case "review":
      return { who: who(b.reviewer), what: `reviewed event ${b.seq}${b.comment ? ": " + b.comment : ""}` };
    case "opt_in":
      return { who: who(b.consumer), what: "opted in" };
    case "leave":
      return { who: who(b.consumer), what: "left (#LEAVE)" };
    case "media":
      return { who: "", what: `${b.media_kind} ${b.file_name ?? ""} (${b.size} bytes, sha256 ${String(b.sha256).slice(0, 12)}…)` };
    default:
      return { who: "", what: JSON.stringify(b) };
  }
}

const useStyles = makeStyles({
  card: { backgroundColor: tokens.colorNeutralBackground1, borderRadius: tokens.borderRadiusLarge, padding: "16px", display: "flex", flexDirection: "column", gap: "12px", boxShadow: tokens.shadow2, minWidth: 0 },
  grid: { display: "grid", gridTemplateColumns: "repeat(auto-fill, minmax(min(200px, 100%), 1fr))", gap: "12px", alignItems: "end" },
  muted: { color: tokens.colorNeutralForeground2 },
  row: { display: "flex", gap: "8px", alignItems: "flex-end", flexWrap: "wrap" },
  tableWrap: { overflowX: "auto" },
  code: { fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase200, overflowWrap: "anywhere" },
  text: { overflowWrap: "anywhere", whiteSpace: "pre-wrap" },
  seqCol: { width: "56px" },
  timeCol: { width: "170px" },
  kindCol: { width: "150px" },
  whoCol: { width: "160px" },
  flag: { display: "flex", flexDirection: "column", gap: "8px", borderTop: `1px solid ${tokens.colorNeutralStroke2}`, paddingTop: "8px" },
  // The message an alert named: marked, with room inside the mark.
  focused: { backgroundColor: tokens.colorPaletteYellowBackground1, outline: `2px solid ${tokens.colorPaletteYellowBorder2}`, outlineOffset: "-2px" },
  focusedFlag: { padding: "8px 12px 12px", borderRadius: tokens.borderRadiusMedium },
});

/** messageOf is the message an archive event is about, if any. */
function messageOf(e: ArchiveEvent): string {
  const id = e.body?.message_id;
  return typeof id === "string" ? id : "";
}

export function Review() {
  const s = useStyles();
  const [ready, setReady] = useState(false);
  const [banner, setBanner] = useState("");
  const [query, setQuery] = useState({ q: "", consumer: "", employee: "", from: "", to: "" });
  const [threads, setThreads] = useState<ReviewThread[] | null>(null);
  const [record, setRecord] = useState<{ thread: ReviewThread | null; id: string; events: ArchiveEvent[] } | null>(null);
  const [queue, setQueue] = useState<FlaggedItem[] | null>(null);
  const [comments, setComments] = useState<Record<string, string>>({});
  const [focus] = useState(() => reviewFocus());

  const fail = (e: unknown) => setBanner((e as Error).message);
  const search = async (e?: FormEvent) => {
    e?.preventDefault();
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v.trim()) p.set(k, v.trim());
    try {
      setThreads(await api<ReviewThread[]>("GET", "/review/threads?" + p.toString()));
      setBanner("");
    } catch (err) {
      fail(err);
    }
  };
  const loadQueue = async () => {
    try {
      setQueue(await api<FlaggedItem[]>("GET", "/review/flagged"));
    } catch (err) {
      fail(err);
    }
  };
  const open = async (id: string, t: ReviewThread | null) => {
    try {
      const r = await api<{ thread: string; events: ArchiveEvent[] }>("GET", "/review/threads/" + encodeURIComponent(id));
      setRecord({ thread: t, id, events: r.events });
      setBanner("");
    } catch (err) {
      fail(err);
    }
  };
  const markReviewed = async (f: FlaggedItem) => {
    const key = f.thread + "/" + f.seq;
    try {
      await api("POST", `/review/threads/${encodeURIComponent(f.thread)}/events/${f.seq}/review`, { comment: comments[key] || "" });
      setComments((c) => ({ ...c, [key]: "" }));
      setBanner("");
      await loadQueue();
      if (record?.id === f.thread) await open(f.thread, record.thread);
    } catch (err) {
      fail(err);
    }
  };
  useEffect(() => {
    (async () => {
      try {
        await signIn();
        const list = await api<ReviewThread[]>("GET", "/review/threads");
        setThreads(list);
        setQueue(await api<FlaggedItem[]>("GET", "/review/flagged"));
        setReady(true);
        if (focus.thread) await open(focus.thread, list.find((t) => t.id === focus.thread) ?? null);
      } catch (e) {
        fail(e);
      }
    })();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // The message an alert named, once shown: in view (its queue item when
  // queued, the first in the page, else its record).
  const focusShown = !!record && record.id === focus.thread;
  useEffect(() => {
    if (focusShown && focus.message) document.querySelector("[data-focused=true]")?.scrollIntoView({ block: "center" });
  }, [focusShown, focus.message]);
  const focusQueued = !!queue?.some((f) => f.thread === focus.thread && f.decision.message_id === focus.message);

  return (
    <StaffPage title="MultiLine compliance review" banner={banner}>
        {!ready ? (
          banner ? null : <Spinner label="Loading…" />
        ) : (
          <>
            <section className={s.card} id="flagged-section" aria-labelledby="flagged-h">
              <Subtitle1 as="h2" id="flagged-h">
                Flagged for review
              </Subtitle1>
              <Body1 className={s.muted}>Messages a lexicon rule flagged. They were delivered; mark each reviewed with a comment, which is kept in the archive.</Body1>
              {focus.message && queue && !focusQueued ? (
                <Body1 id="focus-not-queued" className={s.muted}>
                  The message the alert named is not waiting for review: it was blocked (a block needs no review) or has been reviewed. Its record is below.
                </Body1>
              ) : null}
              {!queue ? (
                <Spinner size="tiny" />
              ) : !queue.length ? (
                <Body1 id="flagged-none" className={s.muted}>
                  Nothing is waiting for review.
                </Body1>
              ) : (
                <div id="flagged">
                  {queue.map((f) => {
                    const key = f.thread + "/" + f.seq;
                    const focused = f.thread === focus.thread && f.decision.message_id === focus.message;
                    return (
                      <div key={key} className={focused ? mergeClasses(s.flag, s.focused, s.focusedFlag) : s.flag} data-flag={key} data-message={f.decision.message_id} data-focused={focused || undefined}>
                        <div className={s.row}>
                          <Badge appearance="tint" color="warning">
                            {f.decision.rules.join(", ")}
                          </Badge>
                          <Caption1 className={s.muted}>
                            {utc(f.at)} · {f.consumer_name || f.thread} · {f.decision.direction}
                          </Caption1>
                          <Link as="button" onClick={() => open(f.thread, null)}>
                            Open the thread
                          </Link>
                        </div>
                        <Body1 className={s.text}>{f.decision.original}</Body1>
                        <div className={s.row}>
                          <Field label="Comment">
                            <Textarea value={comments[key] || ""} onChange={(_, d) => setComments((c) => ({ ...c, [key]: d.value }))} />
                          </Field>
                          <Button appearance="primary" className="mark-reviewed" onClick={() => markReviewed(f)}>
                            Mark reviewed
                          </Button>
                        </div>
                      </div>
                    );
                  })}
                </div>
              )}
            </section>
            <section className={s.card} aria-labelledby="search-h">
              <Subtitle1 as="h2" id="search-h">
                Conversations
              </Subtitle1>
              <form className={s.grid} onSubmit={search} id="review-search">
                <Field label="Text">
                  <Input id="r-q" value={query.q} onChange={(_, d) => setQuery({ ...query, q: d.value })} />
                </Field>
                <Field label="Consumer (WeChat id or name)">
                  <Input id="r-consumer" value={query.consumer} onChange={(_, d) => setQuery({ ...query, consumer: d.value })} />
                </Field>
                <Field label="Employee id">
                  <Input id="r-employee" value={query.employee} onChange={(_, d) => setQuery({ ...query, employee: d.value })} />
                </Field>
                <Field label="From (UTC)">
                  <Input id="r-from" type="date" value={query.from} onChange={(_, d) => setQuery({ ...query, from: d.value })} />
                </Field>
                <Field label="To (UTC, inclusive)">
                  <Input id="r-to" type="date" value={query.to} onChange={(_, d) => setQuery({ ...query, to: d.value })} />
                </Field>
                <div>
                  <Button type="submit" appearance="primary">
                    Search
                  </Button>
                </div>
              </form>
              {threads && !threads.length ? (
                <Body1 id="review-none" className={s.muted}>
                  No conversation matches.
                </Body1>
              ) : threads ? (
                <div className={s.tableWrap}>
                  <Table id="review-threads" size="small" aria-label="Conversations">
                    <TableHeader>
                      <TableRow>
                        <TableHeaderCell>Consumer</TableHeaderCell>
                        <TableHeaderCell>Employees</TableHeaderCell>
                        <TableHeaderCell>First (UTC)</TableHeaderCell>
                        <TableHeaderCell>Last (UTC)</TableHeaderCell>
                        <TableHeaderCell>Events</TableHeaderCell>
                        <TableHeaderCell>Record</TableHeaderCell>
                      </TableRow>
                    </TableHeader>
                    <TableBody>
                      {threads.map((t) => (
                        <TableRow key={t.id} data-thread={t.id}>
                          <TableCell>{t.consumer_name || t.consumer}</TableCell>
                          <TableCell>{t.employees.join(", ")}</TableCell>
                          <TableCell>{utc(t.first)}</TableCell>
                          <TableCell>{utc(t.last)}</TableCell>
                          <TableCell>{t.events}</TableCell>
                          <TableCell>
                            <Button size="small" className="open-record" onClick={() => open(t.id, t)} aria-label={"Open the record of " + (t.consumer_name || t.id)}>
                              Open
                            </Button>
                          </TableCell>
                        </TableRow>
                      ))}
                    </TableBody>
                  </Table>
                </div>
              ) : null}
            </section>
            {record ? (
              <section className={s.card} id="record" aria-labelledby="record-h">
                <Subtitle1 as="h2" id="record-h">
                  Record of {record.thread?.consumer_name || record.id}
                </Subtitle1>
                <Caption1 className={s.muted}>
                  Read-only: every event of thread <code className={s.code}>{record.id}</code>, in order, as the archive keeps it.
                </Caption1>
                {/* Focusable, so the record scrolls sideways by keyboard on a narrow screen. */}
                <div className={s.tableWrap} tabIndex={0} role="region" aria-label="Archive record, scrollable">
                  <Table size="small" aria-label="Archive record">
                    <TableHeader>
                      <TableRow>
                        <TableHeaderCell className={s.seqCol}>#</TableHeaderCell>
                        <TableHeaderCell className={s.timeCol}>Time (UTC)</TableHeaderCell>
                        <TableHeaderCell className={s.kindCol}>Kind</TableHeaderCell>
                        <TableHeaderCell className={s.whoCol}>Who</TableHeaderCell>
                        <TableHeaderCell>What</TableHeaderCell>
                      </TableRow>
                    </TableHeader>
                    <TableBody>
                      {record.events.map((e) => {
                        const l = eventLine(e);
                        const focused = !!focus.message && record.id === focus.thread && messageOf(e) === focus.message;
                        return (
                          <TableRow key={e.seq} data-seq={e.seq} data-kind={e.kind} className={focused ? s.focused : undefined} data-focused={focused || undefined}>
                            <TableCell>{e.seq}</TableCell>
                            <TableCell>{utc(e.time)}</TableCell>
                            <TableCell>
                              <code className={s.code}>{e.kind}</code>
                            </TableCell>
                            <TableCell>{l.who}</TableCell>
                            <TableCell className={s.text}>{l.what}</TableCell>
                          </TableRow>
                        );
                      })}
                    </TableBody>
                  </Table>
                </div>
              </section>
            ) : null}
          </>
        )}
    </StaffPage>
  );
}
