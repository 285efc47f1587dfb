/// <reference lib="dom" />
/**
 * A confirmation asked before an action on many jobs: a modal `<dialog>`
 * (focus kept inside, Escape cancels), labelled and described for screen
 * readers, with Cancel focused first so Enter alone does nothing rash.
 *
 * @module
 */
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

/** What the dialog asks and what it calls. */
export interface ConfirmProps {
  /** The question, e.g. "Retry 120 jobs?". */
  title: string;
  /** What will happen. */
  children: ComponentChildren;
  /** The confirm button's label, e.g. "Retry 120 jobs". */
  confirmLabel: string;
  /** Called on confirm. */
  onConfirm: () => void;
  /** Called on Cancel or Escape. */
  onCancel: () => void;
}

/** The dialog, shown modal while mounted. */
export function ConfirmDialog(props: ConfirmProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    cancel.current?.focus();
    return () => dialog?.open && dialog.close();
  }, []);
  return (
    <dialog
      ref={ref}
      class="confirm"
      role="alertdialog"
      aria-modal="true"
      aria-labelledby="confirm-title"
      aria-describedby="confirm-text"
      data-confirm
      onCancel={(e) => {
        e.preventDefault();
        props.onCancel();
      }}
    >
      <h2 id="confirm-title">{props.title}</h2>
      <div id="confirm-text">{props.children}</div>
      <div class="confirm-actions">
        <button
          ref={cancel}
          type="button"
          class="button"
          onClick={props.onCancel}
        >
          Cancel
        </button>
        <button
          type="button"
          class="button primary"
          data-confirm-yes
          onClick={props.onConfirm}
        >
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
