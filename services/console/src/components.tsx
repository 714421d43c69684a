import { SagaFlowError } from '@sagaflow/client';
import { useEffect, useRef, useState, type ReactNode } from 'react';

export function StatusBadge({ status, testId = 'status' }: { status: string; testId?: string }) {
  return (
    <span className={`badge status-${status.toLowerCase()}`} data-testid={testId}>
      {status}
    </span>
  );
}

/** A JSON value in a collapsible section (closed by default). */
export function JsonDetails({ title, value, open = false }: { title: string; value: unknown; open?: boolean }) {
  return (
    <details className="json" open={open}>
      <summary>{title}</summary>
      <pre>{JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}

/** The API's `code: message`, or the error's message. */
export function describeError(error: unknown): string {
  if (error instanceof SagaFlowError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

export function ErrorNotice({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p role="alert" className="error">
      {describeError(error)}
    </p>
  );
}

/**
 * A button that asks before acting: a modal dialog (`role="dialog"`) with what will happen, optional extra
 * fields, and Confirm / Back. `onConfirm` may throw: its error is shown in the dialog.
 */
export function ConfirmButton({
  label,
  title,
  children,
  onConfirm,
  className,
  disabled,
}: {
  label: string;
  title: string;
  children?: ReactNode;
  onConfirm: () => Promise<unknown>;
  className?: string;
  disabled?: boolean;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) element.showModal();
    if (!open && element.open) element.close();
  }, [open]);
  const confirm = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      setOpen(false);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className={className} disabled={disabled} onClick={() => setOpen(true)}>
        {label}
      </button>
      <dialog ref={dialog} aria-label={title} onClose={() => setOpen(false)}>
        {open && (
          <form
            method="dialog"
            onSubmit={(event) => {
              event.preventDefault();
              void confirm();
            }}
          >
            <h2>{title}</h2>
            {children}
            <ErrorNotice error={error} />
            <div className="actions">
              <button type="button" onClick={() => setOpen(false)}>
                Back
              </button>
              <button type="submit" className="primary" disabled={busy}>
                Confirm
              </button>
            </div>
          </form>
        )}
      </dialog>
    </>
  );
}

/** "3 s ago", "in 2 min": for lists. */
export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '–';
  const diff = Date.parse(iso) - now;
  const abs = Math.abs(diff);
  const [value, unit] =
    abs < 60_000
      ? [Math.round(abs / 1_000), 's']
      : abs < 3_600_000
        ? [Math.round(abs / 60_000), 'min']
        : abs < 172_800_000
          ? [Math.round(abs / 3_600_000), 'h']
          : [Math.round(abs / 86_400_000), 'd'];
  return diff < 0 ? `${value} ${unit} ago` : `in ${value} ${unit}`;
}
