import {
  Button,
  makeStyles,
  mergeClasses,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  OverlayDrawer,
  Spinner,
  Text,
  Title3,
  tokens,
} from "@fluentui/react-components";
import { ChatAddRegular, DismissRegular, QrCodeRegular, SettingsRegular, ShieldTaskRegular, SignOutRegular } from "@fluentui/react-icons";
import { useCallback, useEffect, useRef, useState } from "react";
import { Api, ApiError, signIn, type Config, type Me, type ThreadDetail, type ThreadSummary } from "./api";
import { Conversation } from "./Conversation";
import { reviewPageFor } from "./deeplink";
import { Details } from "./Details";
import { AddColleagueDialog, LeaveDialog, LinkDialog } from "./Dialogs";
import { useDebounced, useMedia, useMinuteTick } from "./hooks";
import { t } from "./i18n";
import { Inbox } from "./Inbox";
import { connectLive } from "./live";
import { WeChatMark } from "./WeChatMark";

const useStyles = makeStyles({
  app: { display: "flex", flexDirection: "column", height: "100vh", minHeight: 0, overflow: "hidden", backgroundColor: tokens.colorNeutralBackground2 },
  bar: {
    display: "flex",
    alignItems: "center",
    gap: "8px",
    padding: "6px 12px",
    minHeight: "44px",
    boxSizing: "border-box",
    backgroundColor: tokens.colorNeutralBackground1,
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
    minWidth: 0,
  },
  title: { display: "flex", alignItems: "center", gap: "8px", flex: 1, minWidth: 0, margin: 0 },
  titleText: { overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" },
  // On a phone the mark stands for the name, which stays for screen readers.
  titleNarrow: { position: "absolute", width: "1px", height: "1px", overflow: "hidden", clip: "rect(0 0 0 0)", whiteSpace: "nowrap" },
  me: { color: tokens.colorNeutralForeground2, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap", maxWidth: "200px" },
  actions: { display: "flex", alignItems: "center", gap: "4px", flexShrink: 0 },
  banners: { display: "flex", flexDirection: "column", gap: "4px", padding: "4px 12px 0" },
  main: { flex: 1, minHeight: 0, display: "grid", gridTemplateColumns: "minmax(260px, 340px) minmax(0, 1fr)", overflow: "hidden" },
  wide: { gridTemplateColumns: "minmax(260px, 340px) minmax(0, 1fr) 300px" },
  single: { gridTemplateColumns: "minmax(0, 1fr)" },
  pane: { minHeight: 0, minWidth: 0, overflow: "hidden", backgroundColor: tokens.colorNeutralBackground1 },
  listPane: { borderRight: `1px solid ${tokens.colorNeutralStroke2}` },
  detailsPane: { borderLeft: `1px solid ${tokens.colorNeutralStroke2}` },
  // The whole pane, not a band at its top.
  placeholder: { display: "flex", alignItems: "center", justifyContent: "center", height: "100%", boxSizing: "border-box", color: tokens.colorNeutralForeground2, backgroundColor: tokens.colorNeutralBackground2, padding: "24px", textAlign: "center" },
  center: { display: "flex", alignItems: "center", justifyContent: "center", flex: 1, padding: "24px" },
  drawer: { width: "min(340px, 100vw)" },
  hideNarrow: { "@media (max-width: 479px)": { display: "none" } },
});

type Dialogs = { leave?: boolean; add?: boolean; link?: "mine" | "optin" };

/** wantedThread is the thread a deep link names: Teams' subPageId (the link's
 * subEntityId), else ?subEntityId= or #thread= outside Teams. */
export function wantedThread(subPageId?: string, loc: Pick<Location, "search" | "hash"> = location): string {
  if (subPageId) return subPageId;
  const q = new URLSearchParams(loc.search);
  return q.get("subEntityId") || new URLSearchParams(loc.hash.slice(1)).get("thread") || "";
}

export interface AppProps {
  /** deepLink resolves the thread to open first (the Teams context's subPageId). */
  deepLink?: () => Promise<string | undefined>;
}

export function App({ deepLink }: AppProps) {
  const s = useStyles();
  const narrow = useMedia("(max-width: 699px)");
  const wide = useMedia("(min-width: 1180px)");
  const tick = useMinuteTick();

  const [phase, setPhase] = useState<"loading" | "ready" | "failed" | "disabled" | "reviewer">("loading");
  const [fatal, setFatal] = useState("");
  const [config, setConfig] = useState<Config | null>(null);
  const [me, setMe] = useState<Me | null>(null);
  const [threads, setThreads] = useState<ThreadSummary[] | null>(null);
  const [query, setQuery] = useState("");
  const dq = useDebounced(query, 250);
  const [needsAnswer, setNeedsAnswer] = useState(false);
  const [current, setCurrent] = useState<string | null>(null);
  const [detail, setDetail] = useState<ThreadDetail | null>(null);
  const [offset, setOffset] = useState(0);
  const [view, setView] = useState<"list" | "thread">("list");
  const [detailsOpen, setDetailsOpen] = useState(false);
  const [dialogs, setDialogs] = useState<Dialogs>({});
  const [optInThread, setOptInThread] = useState<ThreadDetail | null>(null);
  const [error, setError] = useState("");
  const [info, setInfo] = useState("");
  const [liveLost, setLiveLost] = useState(false);
  const currentRef = useRef<string | null>(null);
  currentRef.current = current;
  const optInRef = useRef<string | null>(null);
  const seen = useRef<Record<string, string>>({});

  const failed = useCallback((e: unknown) => {
    if (e instanceof ApiError && e.code === "employee_disabled") {
      setPhase("disabled");
      return;
    }
    setError(e instanceof Error ? e.message : String(e));
  }, []);

  // Only the latest list request may set the list: an answer that left the server
  // before a read mark was stored must not bring its unread count back.
  const listSeq = useRef(0);
  const loadThreads = useCallback(async () => {
    const seq = ++listSeq.current;
    try {
      const ts = await Api.threads(dq, needsAnswer);
      if (seq === listSeq.current) setThreads(ts);
    } catch (e) {
      if (seq === listSeq.current) failed(e);
    }
  }, [dq, needsAnswer, failed]);

  const loadThread = useCallback(
    async (id: string) => {
      try {
        const th = await Api.thread(id);
        if (currentRef.current !== id) return;
        setOffset(Date.parse(th.now) - Date.now());
        setDetail(th);
        if (optInRef.current === id) setOptInThread(th);
      } catch (e) {
        if (e instanceof ApiError && (e.status === 404 || e.status === 403) && e.code !== "employee_disabled") {
          if (currentRef.current === id) {
            setCurrent(null);
            setDetail(null);
            setView("list");
          }
          return;
        }
        failed(e);
      }
    },
    [failed],
  );

  // Sign in, who am I, and the deep link.
  useEffect(() => {
    let live = true;
    (async () => {
      try {
        const want = wantedThread(await deepLink?.());
        // A compliance alert's link names a message to review: that page is
        // the review page, whoever follows it (the server checks the role).
        const review = reviewPageFor(want);
        if (review) {
          location.replace(review);
          return;
        }
        const cfg = await signIn();
        const m = await Api.me();
        if (!live) return;
        setConfig(cfg);
        setMe(m);
        if (m.disabled) {
          setPhase("disabled");
          return;
        }
        if (m.not_employee) {
          setPhase("reviewer");
          return;
        }
        setPhase("ready");
        if (want) open(want);
      } catch (e) {
        if (!live) return;
        if (e instanceof ApiError && e.code === "employee_disabled") setPhase("disabled");
        else {
          setFatal(e instanceof ApiError && e.code === "not_in_teams" ? t("notInTeams") : t("signInFailed", { e: e instanceof Error ? e.message : String(e) }));
          setPhase("failed");
        }
      }
    })();
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    if (phase === "ready") void loadThreads();
  }, [phase, loadThreads]);

  useEffect(() => {
    if (phase !== "ready" || !current) return;
    void loadThread(current);
  }, [phase, current, loadThread]);

  // Live updates for the list and the open thread.
  useEffect(() => {
    if (phase !== "ready") return;
    return connectLive({
      thread: current,
      onThreads: () => void loadThreads(),
      // The ref, not the closure's: a thread being left must not be asked for again.
      onThread: () => {
        const id = currentRef.current;
        if (id) void loadThread(id);
      },
      onDisabled: () => setPhase("disabled"),
      onState: (ok) => setLiveLost(!ok),
    });
  }, [phase, current, loadThreads, loadThread]);

  const open = (id: string) => {
    setCurrent(id);
    setView("thread");
    setInfo("");
    if (currentRef.current !== id) setDetail(null);
    if (!window.parent || window.parent === window) history.replaceState(null, "", "#thread=" + encodeURIComponent(id));
  };

  const onSeen = useCallback(
    (lastId: string) => {
      const id = currentRef.current;
      if (!id || seen.current[id] === lastId || document.hidden) return;
      seen.current[id] = lastId;
      Api.read(id, lastId).then(() => {
        listSeq.current++; // a list answer still on its way predates the mark
        setThreads((ts) => ts && ts.map((x) => (x.id === id ? { ...x, unread: 0 } : x)));
        void loadThreads();
      }, () => undefined);
    },
    [loadThreads],
  );

  const send = async (text: string, file: File | null): Promise<boolean> => {
    if (!current) return false;
    try {
      if (file) await Api.upload(current, file, text);
      else await Api.send(current, text);
      setError("");
      await loadThread(current);
      void loadThreads();
      return true;
    } catch (e) {
      failed(e);
      return false;
    }
  };

  const leave = async () => {
    const id = current;
    setDialogs({});
    if (!id) return;
    try {
      currentRef.current = null;
      await Api.leave(id);
      setCurrent(null);
      setDetail(null);
      setView("list");
      setDetailsOpen(false);
      setInfo(t("leftConversation"));
      void loadThreads();
    } catch (e) {
      currentRef.current = id;
      failed(e);
    }
  };

  const newOptIn = async () => {
    try {
      const { thread } = await Api.optIn();
      optInRef.current = thread;
      setOptInThread(null);
      setDialogs({ link: "optin" });
      open(thread);
      void loadThreads();
    } catch (e) {
      failed(e);
    }
  };

  const removeColleague = async (id: string) => {
    if (!current) return;
    try {
      await Api.removeColleague(current, id);
      await loadThread(current);
    } catch (e) {
      failed(e);
    }
  };

  if (phase === "loading") {
    return (
      <div className={s.app}>
        <div className={s.center}>
          <Spinner label={t("loading")} />
        </div>
      </div>
    );
  }

  const header = (
    <header className={s.bar}>
      <Title3 as="h1" className={s.title}>
        <WeChatMark size={22} decorative />
        <span className={narrow ? s.titleNarrow : s.titleText}>{t("appName")}</span>
      </Title3>
      {me ? (
        <Text className={mergeClasses(s.me, s.hideNarrow)} data-testid="me-name">
          {me.name}
        </Text>
      ) : null}
      <div className={s.actions}>
        {phase === "ready" && me?.contact_link !== undefined ? (
          <Button appearance="subtle" icon={<QrCodeRegular />} aria-label={t("myLink")} title={t("myLink")} onClick={() => setDialogs({ link: "mine" })} data-testid="my-link">
            {narrow ? null : t("myLink")}
          </Button>
        ) : null}
        {phase === "ready" ? (
          <Button appearance={narrow ? "subtle" : "primary"} icon={<ChatAddRegular />} aria-label={t("newOptIn")} title={t("newOptIn")} onClick={newOptIn} data-testid="new-opt-in">
            {narrow ? null : t("newOptIn")}
          </Button>
        ) : null}
        {me?.compliance_reviewer ? (
          <Button as="a" href="review.html" appearance="subtle" icon={<ShieldTaskRegular />} aria-label={t("review")} title={t("review")} data-testid="review-link" />
        ) : null}
        {me?.admin ? (
          <Button as="a" href="admin.html" appearance="subtle" icon={<SettingsRegular />} aria-label={t("admin")} title={t("admin")} data-testid="admin-link" />
        ) : null}
        {me?.dev ? (
          <form method="post" action="/tab/dev-logout">
            <Button type="submit" appearance="subtle" icon={<SignOutRegular />} aria-label={t("signOut")} title={t("signOut")} data-testid="sign-out" />
          </form>
        ) : null}
      </div>
    </header>
  );

  if (phase === "reviewer") {
    // A reviewer who is not an employee has no conversations of their own and
    // may not write in anyone's: the review page is theirs.
    return (
      <div className={s.app}>
        {header}
        <div className={s.banners}>
          <MessageBar intent="info" data-testid="reviewer-landing">
            <MessageBarBody>{t("reviewerOnly")}</MessageBarBody>
            <MessageBarActions>
              <Button as="a" href="review.html" appearance="primary" data-testid="open-review">
                {t("review")}
              </Button>
            </MessageBarActions>
          </MessageBar>
        </div>
      </div>
    );
  }

  if (phase === "failed" || phase === "disabled") {
    return (
      <div className={s.app}>
        {header}
        <div className={s.banners}>
          <MessageBar intent={phase === "disabled" ? "error" : "warning"} data-testid="fatal">
            <MessageBarBody>{phase === "disabled" ? t("disabled") : fatal}</MessageBarBody>
          </MessageBar>
        </div>
      </div>
    );
  }

  const showList = !narrow || view === "list" || !current;
  const showThread = !narrow || (view === "thread" && !!current);
  const detailsInline = wide && !!detail;
  const threadPane = current ? (
    detail ? (
      <Conversation
        th={detail}
        meId={me?.id || ""}
        serverOffset={offset}
        tick={tick}
        narrow={narrow}
        showDetailsButton={!detailsInline}
        onBack={() => setView("list")}
        onDetails={() => setDetailsOpen(true)}
        onAddColleague={() => setDialogs({ add: true })}
        onLeave={() => setDialogs({ leave: true })}
        onSend={send}
        onSeen={onSeen}
      />
    ) : (
      <div className={s.center}>
        <Spinner size="small" label={t("loading")} />
      </div>
    )
  ) : (
    <div className={mergeClasses(s.placeholder)}>
      <Text>{t("pickThread")}</Text>
    </div>
  );
  const details = detail ? (
    <Details
      th={detail}
      onOpen={() => {
        setDetailsOpen(false);
        setView("thread");
      }}
      onClose={detailsInline ? undefined : () => setDetailsOpen(false)}
      onAdd={() => setDialogs({ add: true })}
      onRemove={removeColleague}
    />
  ) : null;

  return (
    <div className={s.app}>
      {header}
      {error || info || liveLost || me?.unreachable ? (
        <div className={s.banners} role="status">
          {me?.unreachable ? (
            <MessageBar intent="warning">
              <MessageBarBody>{t("unreachable", { e: me.unreachable })}</MessageBarBody>
            </MessageBar>
          ) : null}
          {error ? (
            <MessageBar intent="error" data-testid="error">
              <MessageBarBody>{error}</MessageBarBody>
              <MessageBarActions containerAction={<Button appearance="transparent" icon={<DismissRegular />} aria-label={t("dismiss")} onClick={() => setError("")} />} />
            </MessageBar>
          ) : null}
          {info ? (
            <MessageBar intent="success" data-testid="info">
              <MessageBarBody>{info}</MessageBarBody>
              <MessageBarActions containerAction={<Button appearance="transparent" icon={<DismissRegular />} aria-label={t("dismiss")} onClick={() => setInfo("")} />} />
            </MessageBar>
          ) : null}
          {liveLost ? (
            <MessageBar intent="info">
              <MessageBarBody>{t("live")}</MessageBarBody>
            </MessageBar>
          ) : null}
        </div>
      ) : null}
      <main className={mergeClasses(s.main, detailsInline && s.wide, narrow && s.single)}>
        {showList ? (
          <div className={mergeClasses(s.pane, !narrow && s.listPane)}>
            <Inbox
              threads={threads}
              current={current}
              query={query}
              needsAnswer={needsAnswer}
              unreadKept={!!config?.features.unread}
              recentSearch={config?.features.search === "recent"}
              onQuery={setQuery}
              onNeedsAnswer={setNeedsAnswer}
              onOpen={open}
            />
          </div>
        ) : null}
        {showThread ? <div className={s.pane}>{threadPane}</div> : null}
        {detailsInline ? <div className={mergeClasses(s.pane, s.detailsPane)}>{details}</div> : null}
      </main>
      {!detailsInline ? (
        <OverlayDrawer position="end" open={detailsOpen && !!detail} onOpenChange={(_, d) => setDetailsOpen(d.open)} className={s.drawer} aria-label={t("details")}>
          {details}
        </OverlayDrawer>
      ) : null}
      <LeaveDialog open={!!dialogs.leave} onCancel={() => setDialogs({})} onConfirm={leave} />
      <AddColleagueDialog
        th={detail}
        open={!!dialogs.add}
        onClose={() => setDialogs({})}
        onAdd={async (c) => {
          if (!current) return;
          await Api.addColleague(current, c.id);
          setDialogs({});
          await loadThread(current);
        }}
      />
      <LinkDialog
        open={dialogs.link === "mine"}
        kind="mine"
        link={me?.contact_link}
        qr={me?.contact_qr}
        error={me?.contact_link ? undefined : me?.contact_link_error || t("linkError")}
        onClose={() => setDialogs({})}
      />
      <LinkDialog
        open={dialogs.link === "optin"}
        kind="optin"
        link={optInThread?.opt_in_link}
        qr={optInThread?.opt_in_qr}
        thread={optInThread || undefined}
        onClose={() => {
          optInRef.current = null;
          setDialogs({});
        }}
      />
    </div>
  );
}
