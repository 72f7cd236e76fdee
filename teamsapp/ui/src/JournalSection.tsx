import { Body1, Button, makeStyles, Spinner, Subtitle1, tokens } from "@fluentui/react-components";
import { durationText } from "./format";
import { useGet } from "./hooks";
import { t } from "./i18n";

// The admin page's journaling card: how the SMTP journaling of closed
// conversation-days fares (the same numbers /metrics has), and the last
// failure, which the server has already scrubbed of credentials.

export interface JournalStatus {
  enabled: boolean;
  server?: string;
  mailbox?: string;
  last_success: string | null;
  pending: number;
  oldest_pending_seconds: number;
  failing: number;
  dead: number;
  last_error?: string;
}

/** utcTime shows an RFC 3339 time as "2026-03-02 09:01:00 UTC". */
export function utcTime(iso: string): string {
  return iso.replace("T", " ").replace(/\.\d+/, "").replace(/(Z|[+-]00:00)$/, "") + " UTC";
}

const useStyles = makeStyles({
  card: { backgroundColor: tokens.colorNeutralBackground1, borderRadius: tokens.borderRadiusLarge, padding: "16px", display: "flex", flexDirection: "column", gap: "12px", boxShadow: tokens.shadow2, minWidth: 0 },
  muted: { color: tokens.colorNeutralForeground2 },
  facts: { display: "grid", gridTemplateColumns: "minmax(min(200px, 40%), max-content) 1fr", gap: "6px 16px", margin: 0 },
  term: { color: tokens.colorNeutralForeground2 },
  value: { margin: 0, minWidth: 0, overflowWrap: "anywhere" },
  error: { margin: 0, minWidth: 0, color: tokens.colorPaletteRedForeground1, fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase200, overflowWrap: "anywhere" },
});

/** JournalSection shows journaling's status, with a Refresh. */
export function JournalSection() {
  const s = useStyles();
  const { data: st, off, reload: load } = useGet<JournalStatus>("/admin/archive/journal");
  return (
    <section className={s.card} id="journal-section" aria-labelledby="journal-h">
      <Subtitle1 as="h2" id="journal-h">
        {t("jn_title")}
      </Subtitle1>
      <Body1 className={s.muted}>{t("jn_help")}</Body1>
      {off ? (
        <Body1 id="journal-unavailable" className={s.muted}>
          {off}
        </Body1>
      ) : !st ? (
        <Spinner size="tiny" />
      ) : (
        <>
          <Body1 id="journal-target" data-enabled={String(st.enabled)}>
            {st.enabled ? t("jn_to", { to: st.mailbox || "", server: st.server || "" }) : t("jn_off")}
          </Body1>
          <dl className={s.facts}>
            <dt className={s.term}>{t("jn_lastSuccess")}</dt>
            <dd className={s.value} data-testid="journal-last-success">
              {st.last_success ? utcTime(st.last_success) : t("jn_never")}
            </dd>
            <dt className={s.term}>{t("jn_pending")}</dt>
            <dd className={s.value} data-testid="journal-pending" data-count={st.pending}>
              {st.pending}
              {st.pending ? " · " + t("jn_oldest", { age: durationText(st.oldest_pending_seconds * 1000) }) : ""}
            </dd>
            <dt className={s.term}>{t("jn_failing")}</dt>
            <dd className={s.value} data-testid="journal-failing" data-count={st.failing}>
              {st.failing}
            </dd>
            <dt className={s.term}>{t("jn_dead")}</dt>
            <dd className={s.value} data-testid="journal-dead" data-count={st.dead}>
              {st.dead}
            </dd>
            {st.last_error ? (
              <>
                <dt className={s.term}>{t("jn_lastError")}</dt>
                <dd className={s.error} data-testid="journal-error">
                  {st.last_error}
                </dd>
              </>
            ) : null}
          </dl>
        </>
      )}
      <div>
        <Button size="small" id="journal-refresh" onClick={load}>
          {t("jn_refresh")}
        </Button>
      </div>
    </section>
  );
}
