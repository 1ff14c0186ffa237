"""The first schema: study, annotators, prompts, questions, videos, tasks, votes, gold.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "study",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("votes_per_item", sa.Integer, nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("taxonomy", sa.String(32), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "annotator",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True, index=True),
        sa.Column("admin", sa.Boolean, nullable=False),
    )
    op.create_table(
        "prompt",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_table(
        "question",
        sa.Column("id", sa.String(400), primary_key=True),
        sa.Column(
            "prompt_id", sa.String(200), sa.ForeignKey("prompt.id"), nullable=False, index=True
        ),
        sa.Column("node", sa.String(200), nullable=False),
        sa.Column("value", sa.String(200), nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_table(
        "video",
        sa.Column("id", sa.String(400), primary_key=True),
        sa.Column(
            "prompt_id", sa.String(200), sa.ForeignKey("prompt.id"), nullable=False, index=True
        ),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("seed", sa.Integer, nullable=True),
        sa.Column("path", sa.Text, nullable=False),
    )
    op.create_table(
        "task",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "annotator_id", sa.Integer, sa.ForeignKey("annotator.id"), nullable=False, index=True
        ),
        sa.Column("prompt_id", sa.String(200), sa.ForeignKey("prompt.id"), nullable=False),
        sa.Column("left_video_id", sa.String(400), sa.ForeignKey("video.id"), nullable=False),
        sa.Column("right_video_id", sa.String(400), sa.ForeignKey("video.id"), nullable=False),
        sa.Column("rate_left", sa.Boolean, nullable=False),
        sa.Column("rate_right", sa.Boolean, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("submitted", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "vote",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("task.id"), nullable=False, index=True),
        sa.Column("video_id", sa.String(400), sa.ForeignKey("video.id"), nullable=False),
        sa.Column("question_id", sa.String(400), sa.ForeignKey("question.id"), nullable=False),
        sa.Column(
            "annotator_id", sa.Integer, sa.ForeignKey("annotator.id"), nullable=False, index=True
        ),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("side", sa.String(5), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("task_id", "video_id", "question_id"),
    )
    op.create_table(
        "gold",
        sa.Column("video_id", sa.String(400), sa.ForeignKey("video.id"), primary_key=True),
        sa.Column("question_id", sa.String(400), sa.ForeignKey("question.id"), primary_key=True),
        sa.Column("low", sa.Float, nullable=False),
        sa.Column("high", sa.Float, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
    )


def downgrade() -> None:
    for table in ("gold", "vote", "task", "video", "question", "prompt", "annotator", "study"):
        op.drop_table(table)
