import { Body1, Button, Caption1, Input, makeStyles, Spinner, Subtitle2, tokens } from "@fluentui/react-components";
import { CheckmarkRegular, CopyRegular } from "@fluentui/react-icons";
import { useState } from "react";
import type { ThreadDetail } from "./api";
import { queuedMessages } from "./format";
import { t } from "./i18n";

const useStyles = makeStyles({
  root: { display: "flex", flexWrap: "wrap", gap: "12px 16px", alignItems: "flex-start", padding: "12px", marginBottom: "12px", borderRadius: tokens.borderRadiusLarge, backgroundColor: tokens.colorNeutralBackground1, border: `1px solid ${tokens.colorNeutralStroke2}` },
  // The code stays dark on light in every theme, as scanners expect.
  qr: { width: "168px", height: "168px", backgroundColor: "#fff", padding: "6px", borderRadius: tokens.borderRadiusMedium, flexShrink: 0, "@media (forced-colors: active)": { forcedColorAdjust: "none" } },
  body: { display: "flex", flexDirection: "column", gap: "8px", flex: "1 1 200px", minWidth: 0 },
  linkRow: { display: "flex", gap: "6px", alignItems: "center", minWidth: 0 },
  link: { flex: 1, minWidth: 0 },
  queue: { margin: 0, paddingInlineStart: "20px", display: "flex", flexDirection: "column", gap: "2px" },
  muted: { color: tokens.colorNeutralForeground2 },
  queueTitle: { display: "block", margin: "0 0 2px", color: tokens.colorNeutralForeground2, fontWeight: tokens.fontWeightSemibold },
});

/** LinkPanel shows a WeChat link as a QR code and a copyable link: the opt-in
 * request of a thread (with its queued messages) or the employee's own link. */
export function LinkPanel({ kind, link, qr, thread, titled = true }: { kind: "optin" | "mine"; link?: string; qr?: string; thread?: ThreadDetail; titled?: boolean }) {
  const s = useStyles();
  const [copied, setCopied] = useState(false);
  const what = kind === "optin" ? t("optInTitle") : t("linkTitle");
  const copy = async () => {
    if (!link) return;
    try {
      await navigator.clipboard.writeText(link);
    } catch {
      // Clipboard refused (an iframe without the permission): the field is selected for Ctrl+C.
      (document.getElementById("link-" + kind) as HTMLInputElement | null)?.select();
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 2000);
  };
  const queued = thread ? queuedMessages(thread) : [];
  return (
    <div className={s.root} data-testid={"link-" + kind}>
      {qr ? <img src={qr} alt={t("qrOf", { what })} className={s.qr} data-testid="qr" /> : link ? null : <Spinner size="small" label={t("optInCreating")} />}
      <div className={s.body}>
        {titled ? <Subtitle2 as="h3">{what}</Subtitle2> : null}
        <Body1>{kind === "optin" ? t("optInHelp") : t("linkHelp")}</Body1>
        {link ? (
          <div className={s.linkRow}>
            <Input id={"link-" + kind} className={s.link} value={link} readOnly aria-label={what} input={{ "data-testid": "link" } as object} />
            <Button icon={copied ? <CheckmarkRegular /> : <CopyRegular />} onClick={copy} data-testid="copy">
              {copied ? t("copied") : t("copy")}
            </Button>
          </div>
        ) : null}
        {thread ? (
          <div>
            <Caption1 as="h4" className={s.queueTitle}>
              {t("queuedList")}
            </Caption1>
            {queued.length ? (
              <ol className={s.queue} data-testid="queued-list">
                {queued.map((m) => (
                  <li key={m.id}>
                    <Body1>{m.text || m.media?.file_name || m.media?.kind}</Body1>
                  </li>
                ))}
              </ol>
            ) : (
              <Caption1 className={s.muted}>{t("noQueued", { N: thread.queue_limit || 5 })}</Caption1>
            )}
          </div>
        ) : null}
      </div>
    </div>
  );
}
