"""the AI-literacy programme: AI tools inventory, the company's AI-use policy versions and acknowledgements,
requirement rules and the requirements they give people, evidence packs; course learning objectives and the
works-council setting "team figures only"

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 12:19:00.832273

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ai_policy_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('change', sa.String(length=10), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("change IN ('minor', 'material')", name=op.f('ck_ai_policy_version_change')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_ai_policy_version_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_ai_policy_version_org_id_organization'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['user_account.id'], name=op.f('fk_ai_policy_version_published_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_policy_version'))
    )
    with op.batch_alter_table('ai_policy_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ai_policy_version_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_ai_policy_version_org_version', ['org_id', 'version'], unique=False)

    op.create_table('ai_tool',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('vendor', sa.String(length=120), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('team_ids', sa.JSON(), nullable=False),
    sa.Column('departments', sa.JSON(), nullable=False),
    sa.Column('risk_note', sa.Text(), nullable=False),
    sa.Column('personal_data_allowed', sa.Boolean(), nullable=False),
    sa.Column('confidential_data_allowed', sa.Boolean(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('owner_note', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('added_on', sa.Date(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('approved', 'under_review', 'not_allowed')", name=op.f('ck_ai_tool_status')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_ai_tool_org_id_organization'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_ai_tool_owner_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_tool')),
    sa.UniqueConstraint('org_id', 'name', name=op.f('uq_ai_tool_org_id_name'))
    )
    with op.batch_alter_table('ai_tool', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ai_tool_org_id'), ['org_id'], unique=False)

    op.create_table('evidence_pack',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('team_figures_only', sa.Boolean(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('error', sa.String(length=300), nullable=False),
    sa.Column('ready_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('queued', 'running', 'ready', 'failed', 'expired')", name=op.f('ck_evidence_pack_status')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_evidence_pack_org_id_organization'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], name=op.f('fk_evidence_pack_requested_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_pack'))
    )
    with op.batch_alter_table('evidence_pack', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_pack_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_pack_requested_by_id'), ['requested_by_id'], unique=False)

    op.create_table('requirement_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=12), nullable=False),
    sa.Column('operator', sa.String(length=8), nullable=False),
    sa.Column('value', sa.String(length=120), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('due_days', sa.Integer(), nullable=False),
    sa.Column('refresh_months', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("field IN ('everyone', 'team', 'department', 'job_title', 'role')", name=op.f('ck_requirement_rule_field')),
    sa.CheckConstraint("operator IN ('equals', 'contains')", name=op.f('ck_requirement_rule_operator')),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_requirement_rule_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_requirement_rule_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_requirement_rule_org_id_organization'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_requirement_rule_team_id_team'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requirement_rule'))
    )
    with op.batch_alter_table('requirement_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requirement_rule_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_requirement_rule_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_requirement_rule_team_id'), ['team_id'], unique=False)

    op.create_table('ai_policy_ack',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_ai_policy_ack_org_id_organization'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_ai_policy_ack_user_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['ai_policy_version.id'], name=op.f('fk_ai_policy_ack_version_id_ai_policy_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_policy_ack')),
    sa.UniqueConstraint('user_id', 'version_id', name=op.f('uq_ai_policy_ack_user_id_version_id'))
    )
    with op.batch_alter_table('ai_policy_ack', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ai_policy_ack_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ai_policy_ack_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_ai_policy_ack_version_acknowledged', ['version_id', 'acknowledged_at'], unique=False)

    op.create_table('requirement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_overdue_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_requirement_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_requirement_org_id_organization'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rule_id'], ['requirement_rule.id'], name=op.f('fk_requirement_rule_id_requirement_rule'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_requirement_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requirement')),
    sa.UniqueConstraint('user_id', 'course_id', name=op.f('uq_requirement_user_id_course_id'))
    )
    with op.batch_alter_table('requirement', schema=None) as batch_op:
        batch_op.create_index('ix_requirement_org_course', ['org_id', 'course_id'], unique=False)
        batch_op.create_index('ix_requirement_org_due', ['org_id', 'ended_at', 'due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_requirement_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_requirement_rule_id'), ['rule_id'], unique=False)

    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('objectives', sa.JSON(), server_default='[]', nullable=False))

    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('literacy_team_figures_only', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('literacy_team_figures_only')

    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_column('objectives')

    with op.batch_alter_table('requirement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_requirement_rule_id'))
        batch_op.drop_index(batch_op.f('ix_requirement_org_id'))
        batch_op.drop_index('ix_requirement_org_due')
        batch_op.drop_index('ix_requirement_org_course')

    op.drop_table('requirement')
    with op.batch_alter_table('ai_policy_ack', schema=None) as batch_op:
        batch_op.drop_index('ix_ai_policy_ack_version_acknowledged')
        batch_op.drop_index(batch_op.f('ix_ai_policy_ack_user_id'))
        batch_op.drop_index(batch_op.f('ix_ai_policy_ack_org_id'))

    op.drop_table('ai_policy_ack')
    with op.batch_alter_table('requirement_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_requirement_rule_team_id'))
        batch_op.drop_index(batch_op.f('ix_requirement_rule_org_id'))
        batch_op.drop_index(batch_op.f('ix_requirement_rule_course_id'))

    op.drop_table('requirement_rule')
    with op.batch_alter_table('evidence_pack', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_pack_requested_by_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_pack_org_id'))

    op.drop_table('evidence_pack')
    with op.batch_alter_table('ai_tool', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ai_tool_org_id'))

    op.drop_table('ai_tool')
    with op.batch_alter_table('ai_policy_version', schema=None) as batch_op:
        batch_op.drop_index('ix_ai_policy_version_org_version')
        batch_op.drop_index(batch_op.f('ix_ai_policy_version_org_id'))

    op.drop_table('ai_policy_version')
