import { makeStyles } from "@fluentui/react-components";
import { t } from "./i18n";

const useStyles = makeStyles({
  mark: { flexShrink: 0, display: "inline-block", verticalAlign: "middle", "@media (forced-colors: active)": { forcedColorAdjust: "none" } },
});

/** WeChatMark is the WeChat icon that marks a conversation on WeChat. */
export function WeChatMark({ size = 16, decorative = false }: { size?: number; decorative?: boolean }) {
  const s = useStyles();
  return (
    <svg className={s.mark} width={size} height={size} viewBox="0 0 24 24" role={decorative ? undefined : "img"} aria-hidden={decorative || undefined} aria-label={decorative ? undefined : t("wechat")} focusable="false">
      <rect width="24" height="24" rx="5" fill="#07C160" />
      <ellipse cx="9.6" cy="10" rx="6" ry="4.9" fill="#fff" />
      <path d="M6.2 13.6 5.6 16l2.5-1.3z" fill="#fff" />
      <ellipse cx="15.2" cy="14.2" rx="4.9" ry="4" fill="#fff" stroke="#07C160" strokeWidth="0.8" />
      <path d="M17.8 17.2 18.4 19.2 16.3 18z" fill="#fff" />
      <circle cx="7.6" cy="9" r="0.9" fill="#07C160" />
      <circle cx="11.6" cy="9" r="0.9" fill="#07C160" />
      <circle cx="13.6" cy="13.5" r="0.7" fill="#07C160" />
      <circle cx="16.8" cy="13.5" r="0.7" fill="#07C160" />
    </svg>
  );
}
