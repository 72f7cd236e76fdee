import {
  Avatar,
  Body1,
  Button,
  Caption1,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  makeStyles,
  MessageBar,
  MessageBarBody,
  SearchBox,
  tokens,
} from "@fluentui/react-components";
import { useEffect, useState } from "react";
import { Api, type Colleague, type ThreadDetail } from "./api";
import { useDebounced } from "./hooks";
import { t } from "./i18n";
import { LinkPanel } from "./LinkPanel";

const useStyles = makeStyles({
  surface: { maxWidth: "min(560px, calc(100vw - 24px))", boxSizing: "border-box" },
  list: { listStyle: "none", margin: "8px 0 0", padding: 0, display: "flex", flexDirection: "column", gap: "4px", maxHeight: "260px", overflowY: "auto" },
  person: { display: "flex", alignItems: "center", gap: "8px" },
  name: { flex: 1, minWidth: 0, overflow: "hidden", textOverflow: "ellipsis" },
  muted: { color: tokens.colorNeutralForeground2 },
  search: { width: "100%", maxWidth: "none" },
});

/** LeaveDialog confirms Leave Conversation. */
export function LeaveDialog({ open, onCancel, onConfirm }: { open: boolean; onCancel(): void; onConfirm(): void }) {
  const s = useStyles();
  return (
    <Dialog open={open} onOpenChange={(_, d) => !d.open && onCancel()} modalType="alert">
      <DialogSurface className={s.surface} data-testid="leave-dialog">
        <DialogBody>
          <DialogTitle>{t("leaveTitle")}</DialogTitle>
          <DialogContent>{t("leaveConfirm")}</DialogContent>
          <DialogActions>
            <Button appearance="secondary" onClick={onCancel}>
              {t("cancel")}
            </Button>
            <Button appearance="primary" onClick={onConfirm} data-testid="leave-confirm">
              {t("leave")}
            </Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}

/** AddColleagueDialog finds a colleague by name and adds them; the cap is shown. */
export function AddColleagueDialog({ th, open, onClose, onAdd }: { th: ThreadDetail | null; open: boolean; onClose(): void; onAdd(c: Colleague): Promise<void> }) {
  const s = useStyles();
  const [q, setQ] = useState("");
  const dq = useDebounced(q, 200);
  const [list, setList] = useState<Colleague[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    if (!open) return;
    let live = true;
    Api.colleagues(dq).then(
      (l) => live && setList(l),
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [dq, open]);
  useEffect(() => {
    if (!open) {
      setQ("");
      setList(null);
      setError("");
    }
  }, [open]);
  const inThread = new Set((th?.people || []).map((p) => p.id || p.name));
  const shown = (list || []).filter((c) => !inThread.has(c.id) && !inThread.has(c.name));
  const full = !!th && th.people.length >= th.max_participants;
  return (
    <Dialog open={open} onOpenChange={(_, d) => !d.open && onClose()}>
      <DialogSurface className={s.surface} data-testid="add-dialog">
        <DialogBody>
          <DialogTitle>{t("addColleague")}</DialogTitle>
          <DialogContent>
            {th ? <Caption1 className={s.muted}>{t("participantsCap", { n: th.people.length, N: th.max_participants })}</Caption1> : null}
            {full ? (
              <MessageBar intent="warning">
                <MessageBarBody>{t("capReached", { N: th!.max_participants })}</MessageBarBody>
              </MessageBar>
            ) : null}
            {error ? (
              <MessageBar intent="error">
                <MessageBarBody>{error}</MessageBarBody>
              </MessageBar>
            ) : null}
            <SearchBox className={s.search} value={q} onChange={(_, d) => setQ(d.value)} placeholder={t("searchColleague")} aria-label={t("searchColleague")} autoFocus input={{ "data-testid": "colleague-search" } as object} />
            <ul className={s.list}>
              {list && !shown.length ? (
                <li>
                  <Body1 className={s.muted}>{t("noColleagues")}</Body1>
                </li>
              ) : null}
              {shown.map((c) => (
                <li key={c.id} className={s.person}>
                  <Avatar name={c.name} size={24} aria-hidden />
                  <Body1 className={s.name}>{c.name}</Body1>
                  <Button size="small" disabled={full} onClick={() => void onAdd(c).catch((e: Error) => setError(e.message))} data-colleague={c.id} aria-label={t("add") + " " + c.name}>
                    {t("add")}
                  </Button>
                </li>
              ))}
            </ul>
          </DialogContent>
          <DialogActions>
            <Button appearance="secondary" onClick={onClose}>
              {t("close")}
            </Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}

/** LinkDialog shows a link as a QR code: the employee's own, or a new opt-in request's. */
export function LinkDialog({ open, kind, link, qr, error, thread, onClose }: { open: boolean; kind: "optin" | "mine"; link?: string; qr?: string; error?: string; thread?: ThreadDetail; onClose(): void }) {
  const s = useStyles();
  return (
    <Dialog open={open} onOpenChange={(_, d) => !d.open && onClose()}>
      <DialogSurface className={s.surface} data-testid={"dialog-" + kind}>
        <DialogBody>
          <DialogTitle>{kind === "optin" ? t("optInTitle") : t("linkTitle")}</DialogTitle>
          <DialogContent>
            {error ? (
              <MessageBar intent="warning">
                <MessageBarBody>{error}</MessageBarBody>
              </MessageBar>
            ) : (
              <LinkPanel kind={kind} link={link} qr={qr} thread={thread} titled={false} />
            )}
          </DialogContent>
          <DialogActions>
            <Button appearance="secondary" onClick={onClose}>
              {t("close")}
            </Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
