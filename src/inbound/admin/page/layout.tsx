/**
 * The admin page's frame: the document, its stylesheet and the header. The stylesheet is inline,
 * allowed by its hash in the page's Content-Security-Policy (page-headers.ts): the page loads
 * nothing from anywhere, and runs no script at all — charts are SVG drawn on the server, every
 * action a plain form.
 */
import type { Child } from "hono/jsx";
import { raw } from "hono/html";
import { stylesheet } from "./stylesheet";


export interface LayoutProps {
  title: string;
  /** Signed in: the header's sections and sign-out (which carries the CSRF token). */
  signedIn?: { csrf: string } | undefined;
  children?: Child;
}

export function Layout(props: LayoutProps) {
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="referrer" content="same-origin" />
          <title>{props.title}</title>
          {/* No favicon request: the gateway has none to give. */}
          <link rel="icon" href="data:," />
          <style>{raw(stylesheet)}</style>
        </head>
        <body>
          <header>
            <h1>Turnpike admin</h1>
            {props.signedIn ? (
              <>
                <nav>
                  <a href="#usage">Usage</a>
                  <a href="#requests">Recent requests</a>
                  <a href="#keys">Keys</a>
                  <a href="#accounts">Accounts</a>
                </nav>
                <form method="post" action="/admin/logout" class="inline">
                  <input type="hidden" name="csrf" value={props.signedIn.csrf} />
                  <button type="submit">Sign out</button>
                </form>
              </>
            ) : null}
          </header>
          <main>{props.children}</main>
        </body>
      </html>
    </>
  );
}

/** A short message from the last action (the flash, flash.ts): done, or what was wrong. */
export function Message(props: { notice?: string | undefined; error?: string | undefined }) {
  return (
    <>
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
    </>
  );
}
