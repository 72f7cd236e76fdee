// The chrome the staff pages share (admin, compliance review): a bar with the
// page's name and the way back to the tab, and the page's error banner.
import { Link, makeStyles, MessageBar, MessageBarBody, Title3, tokens } from "@fluentui/react-components";
import { ArrowLeftRegular } from "@fluentui/react-icons";
import type { ReactNode } from "react";
import { WeChatMark } from "./WeChatMark";

const useStyles = makeStyles({
  page: { minHeight: "100vh", backgroundColor: tokens.colorNeutralBackground2, color: tokens.colorNeutralForeground1 },
  bar: { display: "flex", alignItems: "center", gap: "12px", padding: "8px 16px", backgroundColor: tokens.colorNeutralBackground1, borderBottom: `1px solid ${tokens.colorNeutralStroke2}`, flexWrap: "wrap" },
  title: { display: "flex", alignItems: "center", gap: "8px", margin: 0, flex: 1 },
  main: { maxWidth: "1100px", margin: "0 auto", padding: "16px", display: "flex", flexDirection: "column", gap: "16px", boxSizing: "border-box" },
});

/** StaffPage frames a staff page's content; banner, when set, is its error. */
export function StaffPage({ title, banner, children }: { title: string; banner: string; children: ReactNode }) {
  const s = useStyles();
  return (
    <div className={s.page}>
      <header className={s.bar}>
        <Title3 as="h1" className={s.title}>
          <WeChatMark size={22} decorative /> {title}
        </Title3>
        <Link href="./" data-testid="back-to-tab">
          <ArrowLeftRegular aria-hidden /> Tab
        </Link>
      </header>
      <main className={s.main}>
        {banner ? (
          <MessageBar intent="error" data-testid="banner" role="alert">
            <MessageBarBody>{banner}</MessageBarBody>
          </MessageBar>
        ) : null}
        {children}
      </main>
    </div>
  );
}
