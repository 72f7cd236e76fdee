import { Body1, Button, makeStyles, Spinner, Subtitle1, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, tokens } from "@fluentui/react-components";
import { useGet } from "./hooks";

// The admin page's audit section: the most recent policy decisions (what the
// thread policy did with each event), as `multiline audit` prints them in full.

interface AuditEntry {
  id: number;
  at: string;
  thread: string;
  event: string;
  detail: unknown;
  actions: unknown;
}

/** actionNames lists the kinds of action a decision took ({"type": …} each), e.g. "RecordMessage, Send". */
export function actionNames(actions: unknown): string {
  if (!Array.isArray(actions)) return "";
  const names = actions.map((a) => (a && typeof a === "object" ? String((a as { type?: unknown }).type ?? "") : "")).filter(Boolean);
  return [...new Set(names)].join(", ");
}

const useStyles = makeStyles({
  card: { backgroundColor: tokens.colorNeutralBackground1, borderRadius: tokens.borderRadiusLarge, padding: "16px", display: "flex", flexDirection: "column", gap: "12px", boxShadow: tokens.shadow2, minWidth: 0 },
  muted: { color: tokens.colorNeutralForeground2 },
  tableWrap: { overflowX: "auto" },
  code: { fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase200, overflowWrap: "anywhere" },
});

export function AuditSection() {
  const s = useStyles();
  const { data: entries, off, reload: load } = useGet<AuditEntry[]>("/admin/audit?limit=50");
  return (
    <section className={s.card} id="audit-section" aria-labelledby="audit-h">
      <Subtitle1 as="h2" id="audit-h">
        Recent policy decisions
      </Subtitle1>
      <Body1 className={s.muted}>The audit log: each event the thread policy applied and what it did, newest first. The full log is `multiline audit --format csv|jsonl`.</Body1>
      {off ? (
        <Body1 id="audit-off" className={s.muted}>
          {off}
        </Body1>
      ) : !entries ? (
        <Spinner size="tiny" />
      ) : !entries.length ? (
        <Body1 id="audit-none" className={s.muted}>
          No decisions yet.
        </Body1>
      ) : (
        <div className={s.tableWrap}>
          <Table id="audit" size="small" aria-label="Recent policy decisions">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Time (UTC)</TableHeaderCell>
                <TableHeaderCell>Thread</TableHeaderCell>
                <TableHeaderCell>Event</TableHeaderCell>
                <TableHeaderCell>Actions</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {entries.map((e) => (
                <TableRow key={e.id} data-audit={e.id}>
                  <TableCell>{e.at.replace("T", " ").replace(/\.\d+/, "").replace("Z", "")}</TableCell>
                  <TableCell>
                    <code className={s.code}>{e.thread}</code>
                  </TableCell>
                  <TableCell>{e.event}</TableCell>
                  <TableCell className={s.code}>{actionNames(e.actions)}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </div>
      )}
      <div>
        <Button size="small" onClick={load}>
          Refresh
        </Button>
      </div>
    </section>
  );
}
